// The Redis store batches the decisions of one event-loop turn into one EVALSHA. These tests use a
// private redis-server so its command counts are ours alone: one round trip for a turn's
// decisions, decided in the order they were asked, with bans imposed inside a batch holding for
// the rest of it; and the memory store's turn clock.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { RedisStore } from '../../src/firewall/redis-store.ts'
import { bucketTtlMs, parseRate } from '../../src/firewall/leaky-bucket.ts'
import { loopNow } from '../../src/firewall/clock.ts'
import type { BanPolicy, ZoneHit } from '../../src/firewall/store.ts'
import { freePort, startRedis } from './support/cluster.ts'

const POLICY: BanPolicy = { banTime: 60_000, factor: 2, maxBanTime: 600_000, forgetAfter: 600_000 }

function zone(name: string, key: string, rate: string, burst: number): ZoneHit {
  const p = { rate: parseRate(rate)!, burst: burst * 1000, delay: Infinity }
  return { ...p, key: `${name}:${key}`, ttl: bucketTtlMs(p) }
}

async function privateRedis(t: { after: (fn: () => unknown) => void }) {
  const port = await freePort()
  const server = await startRedis(port)
  t.after(() => { server.kill('SIGKILL') })
  const url = `redis://127.0.0.1:${port}`
  const admin = new Redis(url)
  t.after(() => admin.disconnect())
  const store = new RedisStore({ url, prefix: 'fwbatch:', policy: POLICY })
  t.after(() => store.close())
  await store.ready()
  const evalshaCalls = async () => {
    const line = (await admin.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_evalsha:'))
    return Number(/calls=(\d+)/.exec(line ?? '')?.[1] ?? 0)
  }
  return { store, evalshaCalls }
}

test('redis store: the decisions of one turn go in one EVALSHA and are decided in the order asked', async (t) => {
  const { store, evalshaCalls } = await privateRedis(t)
  const before = await evalshaCalls()
  const z = zone('z', 'one-client', '1r/m', 4)
  // 40 hits on one bucket and 40 on 40 other buckets, interleaved, all in the same turn.
  const pending = []
  for (let i = 0; i < 40; i++) {
    pending.push(store.hit({ group: '192.0.2.1', zones: [z] }))
    pending.push(store.hit({ group: `198.51.100.${i}`, zones: [zone('z', `c${i}`, '1r/m', 0)] }))
  }
  const results = await Promise.all(pending)
  assert.equal(await evalshaCalls() - before, 1, 'one round trip for the whole turn')
  const mine = results.filter((_, i) => i % 2 === 0).map((r) => r.limited)
  assert.deepEqual(mine, [...Array(5).fill(-1), ...Array(35).fill(0)], 'exactly burst+1 pass, and they are the first five asked')
  assert.ok(results.filter((_, i) => i % 2 === 1).every((r) => r.limited === -1), 'every other client gets its one request')
  const at = new Set(results.map((r) => r.at))
  assert.equal(at.size, 1, "decided on one reading of Redis's clock")
  // The next turn is a new batch, and sees what the first one charged.
  assert.equal((await store.hit({ group: '192.0.2.1', zones: [z] })).limited, 0)
  assert.equal(await evalshaCalls() - before, 2)
})

test('redis store: a ban imposed inside a batch holds for the decisions after it in the same batch', async (t) => {
  const { store } = await privateRedis(t)
  const scanner = { name: 'scanner', maxRetry: 1, findTime: 60_000 }
  const z = zone('z', 'client', '10r/s', 100)
  const [before, strike, after, other] = await Promise.all([
    store.hit({ group: '203.0.113.5', zones: [z] }),
    store.hit({ group: '203.0.113.5', zones: [], strike: scanner }),
    store.hit({ group: '203.0.113.5', zones: [z] }),
    store.hit({ group: '203.0.113.6', zones: [zone('z', 'other', '10r/s', 100)] }),
  ])
  assert.equal(before!.bannedMs, 0, 'before the probe: allowed')
  assert.equal(strike!.freshBan, true)
  assert.equal(strike!.bannedMs, 60_000)
  assert.ok(after!.bannedMs > 0 && !after!.freshBan, 'after the probe, in the same batch: banned')
  assert.equal(other!.bannedMs, 0, 'another client is not')
  assert.deepEqual((await store.bans()).map((b) => b.group), ['203.0.113.5'])
})

test('loopNow: one clock reading per event-loop turn, re-read after 64 calls in a long turn', async () => {
  await new Promise((r) => setImmediate(r))
  const first = loopNow()
  const start = Date.now()
  while (Date.now() - start < 5) { /* let the real clock move */ }
  assert.equal(loopNow(), first, 'same turn, same reading')
  await new Promise((r) => setTimeout(r, 5))
  const next = loopNow()
  assert.ok(next >= first + 5, `a later turn reads the clock again (${next - first} ms later)`)
  const t0 = Date.now()
  while (Date.now() - t0 < 5) { /* the clock moves within this turn */ }
  let moved = false
  for (let i = 0; i < 64; i++) if (loopNow() !== next) moved = true
  assert.ok(moved, 'a long turn still re-reads the clock every 64 calls')
})
