// The shared store suite on Redis, plus what only Redis has: outages, fail modes, shared counters.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Socket } from 'node:net'
import { createFirewall } from '../../src/firewall/index.ts'
import { freePort } from './support/cluster.ts'
import { RedisStore } from '../../src/firewall/redis-store.ts'
import { needRedis, uniqueName } from '../support/services.ts'
import { storeSuite } from './store-suite.ts'

storeSuite('redis store', async (t, policy) => {
  const url = await needRedis(t)
  if (!url) return undefined
  const store = new RedisStore({ url, prefix: `${uniqueName('fwtest')}:`, policy })
  t.after(async () => { await store.clear(); await store.close() })
  await store.ready()
  return store
})

test('Redis unreachable from the start: fail open uses the local limiter and logs once; fail closed answers 503', async (t) => {
  const url = `redis://127.0.0.1:${await freePort()}`
  const zones = [{ name: 'z', rate: '1r/m', burst: 1, nodelay: true }]
  const logs: Record<string, unknown>[] = []
  const open = createFirewall({ store: 'redis', redisUrl: url, zones }, { env: {}, log: (e) => logs.push(e) })
  t.after(() => open.close())
  const closed = createFirewall({ store: 'redis', redisUrl: url, zones, failMode: 'closed' }, { env: {}, log: () => {} })
  t.after(() => closed.close())
  const r = { clientAddress: '192.0.2.1', method: 'GET', path: '/', headers: { host: 'h' } }
  assert.deepEqual(await Promise.all([1, 2, 3].map(() => open.decide(r))).then((ds) => ds.map((d) => d.action)), ['allow', 'allow', 'reject'])
  const d = await closed.decide(r)
  assert.deepEqual([d.action, (d as { status: number }).status, (d as { rule: string }).rule], ['reject', 503, 'store-unavailable'])
  await new Promise((res) => setTimeout(res, 300)) // several reconnect attempts fail meanwhile
  assert.equal(logs.filter((l) => String(l.msg).includes('Redis unreachable')).length, 1)
  assert.equal(open.stats().connected, false)
})

test('decision counters reach the shared totals in Redis', async (t) => {
  const url = await needRedis(t)
  if (!url) return
  const prefix = `${uniqueName('fwcount')}:`
  const fw = createFirewall({ store: 'redis', redisUrl: url, redisPrefix: prefix, deny: ['192.0.2.66'] }, { env: {}, log: () => {} })
  await (fw.store as RedisStore).ready()
  for (const ip of ['192.0.2.1', '192.0.2.66', '192.0.2.66']) await fw.decide({ clientAddress: ip, method: 'GET', path: '/', headers: { host: 'h' } })
  await fw.close()
  const reader = new RedisStore({ url, prefix, policy: fw.config.policy })
  t.after(async () => { await reader.clear(); await reader.close() })
  await reader.ready()
  assert.deepEqual(await reader.counters(), { allowed: 1, rejected: 2, 'rejected:deny-list': 2 })
})

test('a batch Redis does not answer within the command timeout falls back on local limits, logs the outage once, and shared limits resume', async (t) => {
  const real = await needRedis(t)
  if (!real) return
  // A proxy in front of Redis that can hold its replies back (a Redis that stalls, not one that is gone).
  const target = new URL(real)
  let frozen = false
  const held: { to: Socket; data: Buffer }[] = []
  const proxy = createServer((client) => {
    const upstream = connect(Number(target.port) || 6379, target.hostname)
    client.on('data', (d) => upstream.write(d))
    upstream.on('data', (d) => (frozen ? held.push({ to: client, data: d }) : client.write(d)))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  const logs: Record<string, unknown>[] = []
  const policy = { banTime: 60_000, factor: 2, maxBanTime: 600_000, forgetAfter: 600_000 }
  const store = new RedisStore({ url: `redis://127.0.0.1:${(proxy.address() as { port: number }).port}`, prefix: `${uniqueName('fwtimeout')}:`, policy, commandTimeout: 200, log: (e) => logs.push(e) })
  t.after(async () => {
    frozen = false
    await store.clear()
    await store.close()
    await new Promise<void>((r) => proxy.close(() => r()))
  })
  await store.ready()
  const input = { group: '192.0.2.9', zones: [{ key: 'z:192.0.2.9', rate: 10, burst: 5, delay: Infinity, ttl: 60_000 }] }
  assert.ok((await store.hit(input)).at !== undefined, 'answered by Redis (its clock)')

  frozen = true
  const t0 = Date.now()
  const r = await store.hit(input)
  const waited = Date.now() - t0
  assert.equal(r.at, undefined, 'answered by the local fallback')
  assert.ok(waited >= 150 && waited < 1500, `timed out after ${waited} ms`)
  assert.equal(logs.filter((l) => String(l.msg).includes('Redis unreachable (Command timed out)')).length, 1)
  assert.equal(store.connected, false)

  frozen = false
  for (const h of held.splice(0)) h.to.write(h.data)
  const deadline = Date.now() + 5000
  while (!store.connected && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50))
  assert.equal(store.connected, true, 'Redis taken back once it answers')
  assert.ok((await store.hit(input)).at !== undefined, 'shared limits resume')
  assert.equal(logs.filter((l) => String(l.msg).includes('Redis is reachable again')).length, 1)
})
