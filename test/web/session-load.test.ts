// Session loading without the middleware: getLoaded(), and #load's answers for every kind of
// store reply (a promise, a plain value, a synchronous throw, an expired record).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Session } from '../../src/web/sessions/session.ts'
import type { SessionRecord, SessionStore } from '../../src/web/sessions/store.ts'

const policy = { age: 3600, idle: 0 }
const live = (data: Record<string, unknown>): SessionRecord => ({ data, expiresAt: Date.now() + 60_000, lastActivity: Date.now() })

function store(load: (cookie: string) => unknown): SessionStore & { deleted: string[] } {
  const deleted: string[] = []
  return {
    kind: 'test', deleted,
    load: load as SessionStore['load'],
    save: async () => 'k',
    delete: async (c) => { deleted.push(c) },
    clearExpired: async () => 0,
  }
}

test('Session.getLoaded: the value of a loaded session without a promise; an error before loading', async () => {
  const s = new Session(store(async () => live({ a: 1, cart: [2] })), 'cookie', policy)
  assert.throws(() => s.getLoaded('a'), /not loaded yet/)
  assert.equal(s.accessed, false)
  assert.equal(await s.get('a'), 1)
  assert.deepEqual(s.getLoaded('cart'), [2])
  assert.equal(s.getLoaded('missing'), undefined)
  assert.equal(s.accessed, true)
  await s.set('a', 5)
  assert.equal(s.getLoaded('a'), 5, 'sees writes')
  const none = new Session(store(async () => { throw new Error('not asked') }), undefined, policy)
  await none.load()
  assert.equal(none.getLoaded('a'), undefined, 'no cookie: an empty session, loaded at once')
})

test('Session loading: plain-value and promise stores, a synchronous throw rejects, an expired record is deleted', async () => {
  const plain = new Session(store(() => live({ x: 'plain' })), 'c1', policy)
  assert.equal(await plain.get('x'), 'plain', 'a store answering with a plain value')
  const throwing = new Session(store(() => { throw new Error('store down') }), 'c2', policy)
  const p = throwing.get('x')
  assert.ok(p instanceof Promise)
  await assert.rejects(p, /store down/)
  const old = store(async () => ({ data: { x: 1 }, expiresAt: Date.now() - 1, lastActivity: Date.now() }))
  const expired = new Session(old, 'c3', policy)
  assert.equal(await expired.get('x'), undefined)
  assert.deepEqual(old.deleted, ['c3'])
  assert.equal(expired.key, undefined, 'a new session after an expired one')
  const idle = store(async () => ({ data: { x: 1 }, expiresAt: Date.now() + 60_000, lastActivity: Date.now() - 120_000 }))
  const s = new Session(idle, 'c4', { age: 3600, idle: 60 })
  assert.equal(await s.get('x'), undefined, 'idle too long')
  assert.deepEqual(idle.deleted, ['c4'])
  const via = new Session(store(async () => { throw new Error('not asked') }), 'c5', policy)
  assert.equal(via.loadVia(async (c) => live({ via: c })), true)
  assert.equal(via.loadVia(async () => null), false, 'only the first loader')
  assert.equal(await via.get('via'), 'c5')
})

test('Session.prefetch: loads once (the promise load() hands back) without counting as a use', async () => {
  let loads = 0
  const s = new Session(store(async () => { loads++; return live({ a: 1 }) }), 'c6', policy)
  const p = s.prefetch()
  assert.equal(s.accessed, false, 'not a use: no Vary, no cookie change for a page that never reads it')
  await p
  assert.equal(s.accessed, false)
  assert.equal(s.load(), p, 'load() answers with the same loading')
  assert.equal(s.accessed, true)
  assert.equal(s.getLoaded('a'), 1)
  assert.equal(loads, 1)
  const via = new Session(store(async () => live({})), 'c7', policy)
  via.loadVia(async () => live({ b: 2 }))
  assert.equal(via.accessed, false, 'loadVia() neither')
  assert.equal(await via.get('b'), 2)
  assert.equal(via.accessed, true)
  const failing = new Session(store(async () => { throw new Error('store down') }), 'c8', policy)
  await assert.rejects(failing.prefetch(), /store down/)
  assert.equal(failing.accessed, false)
})
