// Flash messages through the signed cookie and through the session; levels; consumed when a
// template iterates them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, setConnection, closeAll } from '../../src/db/index.ts'
import { migrateBuiltins } from '../../src/web/auth/builtins.ts'
import { Client } from '../../src/web/test-client.ts'
import { authApp } from './auth-support.ts'

before(async () => {
  setConnection(connect('sqlite::memory:'))
  await migrateBuiltins({ permissions: false })
})
after(() => closeAll())

for (const storage of ['cookie', 'session'] as const) {
  test(`messages (${storage} storage): shown once on the next page, below-level ones dropped`, async () => {
    const client = new Client(authApp({ settings: { MESSAGE_STORAGE: storage } }))
    try {
      await client.get('/flash/')
      await client.get('/flash/') // two pending now
      if (storage === 'cookie') {
        assert.ok(client.cookies.get('messages'), 'a signed cookie holds them')
        assert.equal(client.cookies.get('sessionid'), undefined)
      } else {
        assert.equal(client.cookies.get('messages'), undefined)
        assert.ok(client.cookies.get('sessionid'))
      }
      let r = await client.get('/show/')
      assert.equal((r.text.match(/<p class="msg success">Saved!<\/p>/g) ?? []).length, 2)
      assert.doesNotMatch(r.text, /hidden by MESSAGE_LEVEL/)
      r = await client.get('/show/')
      assert.equal(r.text.trim(), '|', 'consumed')
      if (storage === 'cookie') {
        // a tampered cookie is ignored, not an error
        r = await client.get('/show/', { headers: { cookie: 'messages=[[40,"forged",""]]:abc' } })
        assert.equal(r.status, 200)
        assert.doesNotMatch(r.text, /forged/)
      }
    } finally {
      await client.close()
    }
  })
}

test('MessageStore: a synchronous storage loads without a promise, an async one with; each loads once', async () => {
  const { MessageStore, Message } = await import('../../src/web/messages/messages.ts')
  let calls = 0
  const sync = new MessageStore(() => { calls++; return [new Message(20, 'from cookie')] }, 20)
  const now = sync.loadNow()
  assert.equal(now, sync, 'answered at once')
  assert.deepEqual([...sync].map(String), ['from cookie'])
  assert.equal(await sync.load(), sync)
  assert.equal(sync.loadNow(), sync)
  assert.equal(calls, 1)
  let asyncCalls = 0
  const later = new MessageStore(async () => { asyncCalls++; return [new Message(25, 'from session')] }, 20)
  const p = later.loadNow()
  assert.ok(p instanceof Promise, 'a session read is awaited')
  assert.equal(await p, later)
  later.add(30, 'added')
  assert.deepEqual([...(await later.load())].map(String), ['from session', 'added'])
  assert.equal(asyncCalls, 1)
  const failing = new MessageStore(() => Promise.reject(new Error('no session')), 20)
  await assert.rejects(failing.load(), /no session/)
})
