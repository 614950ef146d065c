// Two real edge-like processes sharing one Redis: the flood arithmetic, spoofing, bans across
// processes (escalating and expiring), and a Redis outage in the middle of a flood.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { needRedis, uniqueName } from '../support/services.ts'
import { flood, freePort, startRedis, startServer, type TestServer } from './support/cluster.ts'
import { until } from './support/wait.ts'

async function pair(t: { after: (fn: () => unknown) => void }, config: Record<string, unknown>): Promise<[TestServer, TestServer]> {
  const servers = await Promise.all([startServer(config), startServer(config)])
  t.after(() => Promise.all(servers.map((s) => s.stop())))
  return servers as [TestServer, TestServer]
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url)
  const keys = await r.keys(`${prefix}*`)
  if (keys.length) await r.del(...keys)
  r.disconnect()
}

const randomIp = () => `${1 + Math.floor(Math.random() * 220)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 250)}`

test('64 connections over two processes sharing Redis get N·t + B (±1) through, whatever X-Forwarded-For says', async (t) => {
  const url = await needRedis(t)
  if (!url) return
  const prefix = `${uniqueName('fwflood')}:`
  t.after(() => dropKeys(url, prefix))
  const N = 10
  const B = 5
  const [a, b] = await pair(t, {
    store: 'redis', redisUrl: url, redisPrefix: prefix,
    zones: [{ name: 'flood', rate: `${N}r/s`, burst: B, nodelay: true }],
    bans: { enabled: false },
  })
  // Every request claims to come from somewhere else; the peer (127.0.0.1) is not a trusted proxy.
  const r = await flood([a.port, b.port], 3000, { perServer: 32, headers: () => ({ 'x-forwarded-for': `${randomIp()}, ${randomIp()}` }) })
  const [sa, sb] = await Promise.all([a.stats(), b.stats()])
  const t0 = Math.min(sa.first, sb.first)
  const t1 = Math.max(sa.last, sb.last)
  const seconds = (t1 - t0) / 1000
  const passed = r.counts[200] ?? 0
  const expected = N * seconds + B
  assert.equal(r.errors, 0)
  assert.deepEqual(Object.keys(r.counts).sort(), ['200', '429'])
  assert.ok(r.counts[429]! > passed * 10, `a real flood: ${r.counts[429]} rejected`)
  assert.equal(passed, (sa.counts['200'] ?? 0) + (sb.counts['200'] ?? 0), 'client and servers agree')
  assert.ok((sa.counts['200'] ?? 0) > 0 && (sb.counts['200'] ?? 0) > 0, 'both processes served some')
  t.diagnostic(`passed ${passed} of ${passed + r.counts[429]!}; N·t + B = ${expected.toFixed(2)} (t = ${seconds} s)`)
  assert.ok(Math.abs(passed - expected) <= 1, `passed ${passed}, expected N·t + B = ${N}·${seconds} + ${B} = ${expected.toFixed(2)}`)
})

test('a ban made on one process holds on the other; bans escalate, cap and expire', async (t) => {
  const url = await needRedis(t)
  if (!url) return
  const prefix = `${uniqueName('fwban')}:`
  t.after(() => dropKeys(url, prefix))
  const [a, b] = await pair(t, {
    store: 'redis', redisUrl: url, redisPrefix: prefix, trustedProxies: ['127.0.0.1'],
    bans: { banTime: 400, factor: 2, maxBanTime: 1000, scanner: { maxRetry: 1 } },
  })
  const as = (ip: string) => ({ 'x-forwarded-for': ip })
  const bannedFor = async (s: TestServer, group: string) => {
    const bans = JSON.parse((await s.get('/__bans')).body) as Array<{ group: string; until: number }>
    const ban = bans.find((x) => x.group === group)
    return ban ? ban.until - Date.now() : 0
  }
  const lengths: number[] = []
  for (let round = 0; round < 3; round++) {
    const [prober, other] = round % 2 === 0 ? [a, b] : [b, a]
    const probe = await prober.get('/.env', as('192.0.2.10'))
    const left = await bannedFor(other, '192.0.2.10')
    assert.equal(probe.status, 403)
    assert.equal(probe.headers['x-rule'], 'ban', `round ${round}: the probe bans at once (maxRetry 1)`)
    const there = await other.get('/', as('192.0.2.10'))
    assert.equal(there.status, 403, `round ${round}: banned on the other process too`)
    assert.equal(there.headers['retry-after'], '1')
    assert.equal((await other.get('/', as('192.0.2.11'))).status, 200, 'other clients are not affected')
    // The ban's full length is in the log line of the process that imposed it.
    // Rounds alternate between the processes: this one's nth ban line is round/2 + 1.
    const bansLogged = () => prober.logs.filter((l) => l.msg === 'firewall ban' && l.group === '192.0.2.10')
    const line = await until(() => bansLogged().length === Math.floor(round / 2) + 1 && bansLogged().at(-1), 'the ban log line')
    lengths.push((line as Record<string, unknown>).ms as number)
    assert.ok(left > 0 && left <= lengths[round]!, `the other process sees the ban with ${left} ms left`)
    await until(async () => (await other.get('/', as('192.0.2.10'))).status === 200, `ban ${round} to expire`, 5000, 25)
  }
  assert.deepEqual(lengths, [400, 800, 1000], 'banTime, ×factor, capped at maxBanTime')

  // Manual bans through one process, an IPv6 client banned as its /64.
  await a.get('/__ban?address=192.0.2.12&ms=60000')
  await a.get('/__ban?address=2001:db8:1:2::1&ms=60000')
  assert.equal((await b.get('/', as('192.0.2.12'))).status, 403)
  assert.equal((await b.get('/', as('2001:db8:1:2:aaaa::99'))).status, 403, 'same /64')
  assert.equal((await b.get('/', as('2001:db8:1:3::1'))).status, 200, 'another /64')
})

test('Redis stopped mid-flood: no crash, local limits apply and say so once, shared limits resume when it returns', async (t) => {
  const port = await freePort()
  let redis: ChildProcess = await startRedis(port)
  t.after(() => { if (redis.exitCode === null) redis.kill('SIGKILL') })
  const url = `redis://127.0.0.1:${port}`
  const N = 10
  const B = 5
  const [a, b] = await pair(t, {
    store: 'redis', redisUrl: url, redisPrefix: 'fwoutage:', trustedProxies: ['127.0.0.1'],
    zones: [
      { name: 'flood', rate: `${N}r/s`, burst: B, nodelay: true },
      // A zone too slow for timing to matter, to tell shared limits from per-process ones.
      { name: 'slow', rate: '1r/m', burst: 2, nodelay: true, paths: ['/slow'] },
    ],
    bans: { enabled: false },
  })
  // burst+1 = 3 requests on A for a fresh client; how many more does B let through?
  const spill = async (client: string) => {
    for (let i = 0; i < 3; i++) assert.equal((await a.get('/slow', { 'x-forwarded-for': client })).status, 200)
    return (await b.get('/slow', { 'x-forwarded-for': client })).status
  }
  assert.equal(await spill('198.51.100.1'), 429, 'shared: B sees the bucket A filled')
  const before = await flood([a.port, b.port], 1000)
  assert.deepEqual(Object.keys(before.counts).sort(), ['200', '429'])

  // Kill Redis while the flood runs.
  const during = flood([a.port, b.port], 2500)
  await new Promise((r) => setTimeout(r, 500))
  redis.kill('SIGKILL')
  await once(redis, 'exit')
  const outage = await during
  assert.equal(outage.errors, 0, 'no failed requests')
  assert.deepEqual(Object.keys(outage.counts).sort(), ['200', '429'], 'only 200 and 429: fail open, limits still apply')
  for (const s of [a, b]) {
    assert.equal(s.child.exitCode, null, 'the process is alive')
    assert.equal(s.logs.filter((l) => String(l.msg).includes('Redis unreachable')).length, 1, 'logged once')
    assert.equal((await s.stats()).stats.connected, false)
  }
  // While Redis is down each process limits on its own: limits still apply, per process.
  assert.equal(await spill('198.51.100.2'), 200, 'local: B has its own bucket')
  assert.equal((await b.get('/slow', { 'x-forwarded-for': '198.51.100.2' })).status, 200)
  assert.equal((await b.get('/slow', { 'x-forwarded-for': '198.51.100.2' })).status, 200)
  assert.equal((await b.get('/slow', { 'x-forwarded-for': '198.51.100.2' })).status, 429, 'local: burst+1 per process')

  redis = await startRedis(port)
  for (const s of [a, b]) {
    await until(() => s.logs.some((l) => String(l.msg).includes('reachable again')), 'the recovery log line', 15_000, 50)
    assert.equal((await s.stats()).stats.connected, true)
  }
  // Shared again.
  assert.equal(await spill('198.51.100.3'), 429, 'shared again after recovery')
  const after = await flood([a.port, b.port], 500)
  assert.equal(after.errors, 0)
  assert.deepEqual(Object.keys(after.counts).sort(), ['200', '429'])
  for (const s of [a, b]) {
    assert.equal(s.logs.filter((l) => String(l.msg).includes('Redis unreachable')).length, 1, 'still one outage line')
    assert.equal(s.logs.filter((l) => String(l.msg).includes('reachable again')).length, 1, 'one recovery line')
  }
  const r = new Redis(url)
  r.on('error', () => {})
  const keys = await r.keys('fwoutage:r:*')
  r.disconnect()
  assert.ok(keys.length > 0, 'buckets live in Redis again')
})
