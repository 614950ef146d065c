// createFirewall end to end in one process (memory store): lists, bots, limits by key, bans from
// observe(), dry run, counters, limit_conn, config errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFirewall, AUTH_FAILURE_HEADER, type FirewallService } from '../../src/firewall/index.ts'
import type { Decision, FirewallRequest } from '../../src/firewall/contract.ts'

function make(t: { after: (fn: () => unknown) => void }, config: Record<string, unknown>) {
  const logs: Record<string, unknown>[] = []
  const fw = createFirewall(config, { log: (e) => logs.push(e), env: {} })
  t.after(() => fw.close())
  return { fw, logs }
}

function req(clientAddress: string, path = '/', extra: Partial<FirewallRequest> = {}): FirewallRequest {
  return { clientAddress, method: 'GET', path, headers: { host: 'shop.test', 'user-agent': 'Mozilla/5.0' }, httpVersion: '1.1', ...extra }
}

const decide = async (fw: FirewallService, r: FirewallRequest): Promise<Decision> => fw.decide(r)

test('allow list skips limits and bans; deny list answers 403; both take CIDR ranges of v4 and v6', async (t) => {
  const { fw, logs } = make(t, {
    allow: ['10.0.0.0/8', '2001:db8:a::/48'],
    deny: ['203.0.113.0/24', '2001:db8:bad::/48'],
    zones: [{ name: 'all', rate: '1r/m', burst: 0, nodelay: true }],
  })
  for (let i = 0; i < 5; i++) assert.equal((await decide(fw, req('10.1.2.3'))).action, 'allow')
  for (let i = 0; i < 5; i++) assert.equal((await decide(fw, req('2001:db8:a:1::5'))).action, 'allow')
  const denied = await decide(fw, req('203.0.113.9'))
  assert.deepEqual([denied.action, (denied as { status: number }).status, (denied as { rule: string }).rule], ['reject', 403, 'deny-list'])
  assert.equal((await decide(fw, req('2001:db8:bad:7::1'))).action, 'reject')
  await fw.ban('10.1.2.3', 60_000)
  assert.equal((await decide(fw, req('10.1.2.3'))).action, 'allow', 'a ban does not apply to allow-listed clients')
  const line = logs.find((l) => l.rule === 'deny-list')!
  assert.equal(line.client, '203.0.113.9')
  assert.equal(line.msg, 'firewall block')
})

test('limit zones: 429 with Retry-After, per client, per IPv6 /64, per route, by header and cookie', async (t) => {
  const { fw } = make(t, {
    zones: [
      { name: 'api', rate: '1r/m', burst: 1, nodelay: true, routes: ['api*'], key: 'client+route' },
      { name: 'login', rate: '1r/m', burst: 0, nodelay: true, paths: ['/login'], status: 503 },
      { name: 'token', rate: '1r/m', burst: 0, nodelay: true, paths: ['/t/'], key: 'header:x-api-key', missingKey: 'skip' },
      { name: 'session', rate: '1r/m', burst: 0, nodelay: true, paths: ['/s/'], key: 'cookie:sessionid' },
    ],
    bans: { enabled: false },
  })
  const api = (ip: string, route = 'api-v1') => decide(fw, req(ip, '/x', { route }))
  assert.equal((await api('192.0.2.1')).action, 'allow')
  assert.equal((await api('192.0.2.1')).action, 'allow')
  const r = await api('192.0.2.1')
  assert.equal(r.action, 'reject')
  assert.equal((r as { status: number }).status, 429)
  assert.equal((r as { rule: string }).rule, 'limit:api')
  assert.ok((r as { retryAfterSeconds: number }).retryAfterSeconds >= 1)
  assert.equal((await api('192.0.2.1', 'api-v2')).action, 'allow', 'client+route: another route has its own bucket')
  assert.equal((await api('192.0.2.2')).action, 'allow', 'another client has its own bucket')
  assert.equal((await decide(fw, req('192.0.2.1', '/x', { route: 'web' }))).action, 'allow', 'zone does not apply to other routes')

  assert.equal((await decide(fw, req('2001:db8:1:2::1', '/login'))).action, 'allow')
  const v6 = await decide(fw, req('2001:db8:1:2::ffff', '/login'))
  assert.equal((v6 as { status: number }).status, 503, 'same /64 shares the bucket; configured status')

  const withKey = (ip: string, key?: string) => decide(fw, req(ip, '/t/1', { headers: { host: 'h', ...(key ? { 'x-api-key': key } : {}) } }))
  assert.equal((await withKey('192.0.2.5', 'k1')).action, 'allow')
  assert.equal((await withKey('192.0.2.6', 'k1')).action, 'reject', 'the key follows the header, not the address')
  assert.equal((await withKey('192.0.2.6', 'k2')).action, 'allow')
  for (let i = 0; i < 3; i++) assert.equal((await withKey('192.0.2.6')).action, 'allow', 'missingKey skip')

  const withCookie = (ip: string, c: string) => decide(fw, req(ip, '/s/1', { headers: { host: 'h', cookie: `a=1; sessionid=${c}` } }))
  assert.equal((await withCookie('192.0.2.7', 'abc')).action, 'allow')
  assert.equal((await withCookie('192.0.2.8', 'abc')).action, 'reject')
  assert.equal((await withCookie('192.0.2.8', 'def')).action, 'allow')
})

test('delay decisions pace requests within the burst', async (t) => {
  const { fw } = make(t, { zones: [{ name: 'paced', rate: '10r/s', burst: 5 }], bans: { enabled: false } })
  assert.equal((await decide(fw, req('192.0.2.1'))).action, 'allow')
  const d = await decide(fw, req('192.0.2.1'))
  assert.equal(d.action, 'delay')
  assert.ok((d as { delayMs: number }).delayMs > 50 && (d as { delayMs: number }).delayMs <= 100)
  assert.equal((d as { rule: string }).rule, 'limit:paced')
})

test('scanner agents, probe paths and malformed requests: block, tarpit or log per rule; probes ban', async (t) => {
  const { fw, logs } = make(t, { bots: { probeAction: 'tarpit', tarpitMs: '2s' }, bans: { scanner: { maxRetry: 2 } } })
  const agent = await decide(fw, req('198.51.100.1', '/', { headers: { host: 'h', 'user-agent': 'sqlmap/1.7 (https://sqlmap.org)' } }))
  assert.deepEqual([agent.action, (agent as { rule: string }).rule, (agent as { status: number }).status], ['reject', 'bot.agent', 403])
  const probe = await decide(fw, req('198.51.100.2', '/.env'))
  assert.deepEqual([probe.action, (probe as { delayMs: number }).delayMs], ['tarpit', 2000])
  const banned = await decide(fw, req('198.51.100.2', '/wp-login.php'))
  assert.deepEqual([banned.action, (banned as { rule: string }).rule], ['reject', 'ban'], 'second probe within findTime bans')
  assert.equal((await decide(fw, req('198.51.100.2', '/'))).action, 'reject', 'the ban covers normal pages too')
  for (const p of ['/.git/config', '/WP-ADMIN/', '/cgi-bin/x', '/phpmyadmin/index.php', '/.aws/credentials', '/static/../../etc/passwd']) {
    assert.notEqual((await decide(fw, req('198.51.100.3', p))).action, 'allow', p)
    await fw.unban('198.51.100.3')
  }
  assert.equal((await decide(fw, req('198.51.100.4', '/products/environment'))).action, 'allow', 'no false positive')
  const noHost = await decide(fw, req('198.51.100.5', '/', { headers: {} }))
  assert.deepEqual([noHost.action, (noHost as { status: number }).status, (noHost as { rule: string }).rule], ['reject', 400, 'bot.malformed'])
  assert.equal((await decide(fw, req('198.51.100.6', '/', { headers: {}, httpVersion: '1.0' }))).action, 'allow', 'HTTP/1.0 needs no Host')
  const huge = await decide(fw, req('198.51.100.7', '/', { headers: { host: 'h', 'x-junk': 'a'.repeat(9000) } }))
  assert.match((huge as { reason: string }).reason, /x-junk longer than 8192/)
  // With rawHeaders (what the edge passes) the lines are counted and measured as received.
  const rawLong = await decide(fw, req('198.51.100.9', '/', { headers: { host: 'h' }, rawHeaders: ['Host', 'h', 'X-Junk', 'a'.repeat(9000)] }))
  assert.match((rawLong as { reason: string }).reason, /x-junk longer than 8192/)
  const lines = Array.from({ length: 101 }, (_, i) => [`X-H${i}`, 'v']).flat()
  const rawMany = await decide(fw, req('198.51.100.10', '/', { headers: { host: 'h' }, rawHeaders: ['Host', 'h', ...lines] }))
  assert.equal((rawMany as { reason: string }).reason, 'more than 100 headers')
  assert.equal((await decide(fw, req('198.51.100.11', '/', { headers: { host: 'h' }, rawHeaders: ['Host', 'h', 'Accept', '*/*'] }))).action, 'allow')
  const badHost = await decide(fw, req('198.51.100.8', '/', { headers: { host: 'a b<script>' } }))
  assert.equal((badHost as { reason: string }).reason, 'invalid Host header')
  assert.ok(logs.some((l) => l.msg === 'firewall ban' && l.group === '198.51.100.2'))

  const few = make(t, { bots: { probeAction: 'tarpit', maxTarpits: 2 }, bans: { enabled: false } })
  const actions = []
  for (let i = 0; i < 3; i++) actions.push((await decide(few.fw, req('198.51.100.10', '/.env'))).action)
  assert.deepEqual(actions, ['tarpit', 'tarpit', 'reject'], 'beyond maxTarpits, tarpit rules block')

  const logOnly = make(t, { bots: { agentAction: 'log' } })
  assert.equal((await decide(logOnly.fw, req('198.51.100.9', '/', { headers: { host: 'h', 'user-agent': 'Nikto/2.5' } }))).action, 'allow')
  assert.equal(logOnly.logs[0]!.rule, 'bot.agent')
  assert.equal(logOnly.fw.stats().counters.byRule['logged:bot.agent'], 1)
})

test('observe(): bursts of 401/403/404 and app-reported login failures ban; the firewall\'s own 403s do not count', async (t) => {
  const { fw, logs } = make(t, { bans: { statusBurst: { maxRetry: 3 }, authFailure: { maxRetry: 2 } } })
  const r = req('192.0.2.50')
  for (let i = 0; i < 2; i++) { await decide(fw, r); fw.observe(r, 404, {}) }
  assert.equal((await decide(fw, r)).action, 'allow')
  fw.observe(r, 200, {})
  fw.observe(r, 404, {})
  assert.equal((await decide(fw, r)).action, 'reject', 'third 404 within findTime bans')
  assert.ok(logs.some((l) => l.msg === 'firewall ban' && l.jail === 'statusBurst'))

  const login = req('192.0.2.51', '/login')
  fw.observe(login, 200, { [AUTH_FAILURE_HEADER]: '1' })
  assert.equal((await decide(fw, login)).action, 'allow')
  fw.observe(login, 200, { 'X-Causeway-Auth-Failure': '1' })
  const d = await decide(fw, login)
  assert.deepEqual([d.action, (d as { status: number }).status, (d as { rule: string }).rule], ['reject', 403, 'ban'])

  // A deny-listed client's 403s come from the firewall itself: observing them must not ban anyone new.
  const own = make(t, { deny: ['192.0.2.99'], bans: { statusBurst: { maxRetry: 1 } } })
  const dr = req('192.0.2.99')
  await decide(own.fw, dr)
  own.fw.observe(dr, 403, {})
  assert.deepEqual(await own.fw.bans(), [])
})

test('dry run: every decision is allow, the log says what would have happened, counters keep it apart', async (t) => {
  const { fw, logs } = make(t, { dryRun: true, deny: ['192.0.2.1'], zones: [{ name: 'z', rate: '1r/m', nodelay: true }] })
  assert.equal((await decide(fw, req('192.0.2.1'))).action, 'allow')
  assert.equal((await decide(fw, req('192.0.2.2'))).action, 'allow')
  assert.equal((await decide(fw, req('192.0.2.2'))).action, 'allow')
  assert.equal((await decide(fw, req('192.0.2.2', '/.env'))).action, 'allow')
  const rules = logs.filter((l) => l.dryRun).map((l) => l.rule)
  assert.deepEqual(rules, ['deny-list', 'limit:z', 'bot.probe'])
  assert.ok(logs.every((l) => l.msg !== 'firewall block'))
  const c = fw.stats().counters
  assert.equal(c.totals.allowed, 4)
  assert.equal(c.totals.rejected, 0)
  assert.deepEqual(c.dryRun, { 'would-rejected:deny-list': 1, 'would-rejected:limit:z': 1, 'would-rejected:bot.probe': 1 })
  // No strikes in a dry run: however often the client trips rules, no ban is recorded.
  for (let i = 0; i < 30; i++) { await decide(fw, req('192.0.2.2', '/wp-login.php')); fw.observe(req('192.0.2.2'), 404, {}) }
  assert.deepEqual(await fw.bans(), [])
  // An existing ban is reported as what would have happened.
  await fw.ban('192.0.2.3', 60_000)
  assert.equal((await decide(fw, req('192.0.2.3'))).action, 'allow')
  assert.equal(fw.stats().counters.dryRun['would-banned:ban'], 1)
})

test('counters per outcome and rule', async (t) => {
  const { fw } = make(t, { zones: [{ name: 'z', rate: '1r/m', nodelay: true }], bans: { rateLimit: { maxRetry: 2 } } })
  for (let i = 0; i < 4; i++) await decide(fw, req('192.0.2.3'))
  const c = fw.stats().counters
  assert.deepEqual(c.totals, { allowed: 1, delayed: 0, rejected: 1, banned: 2, tarpitted: 0, logged: 0 })
  assert.deepEqual(c.byRule, { 'rejected:limit:z': 1, 'banned:ban': 2 })
})

test('connect(): limit_conn per client group, released once', async (t) => {
  const { fw } = make(t, { connectionsPerClient: 2 })
  const a = fw.connect('192.0.2.9')
  const b = fw.connect('192.0.2.9')
  assert.equal(typeof a, 'function')
  assert.equal(typeof b, 'function')
  const c = fw.connect('192.0.2.9')
  assert.deepEqual(c, { action: 'reject', status: 503, rule: 'limit_conn', reason: 'more than 2 connections' })
  assert.equal(typeof fw.connect('192.0.2.10'), 'function', 'other clients unaffected')
  ;(a as () => void)()
  ;(a as () => void)()
  assert.equal(fw.stats().connections, 2, 'double release counts once')
  assert.equal(typeof fw.connect('192.0.2.9'), 'function')
  assert.equal(typeof fw.connect('192.0.2.9'), 'object')
})

test('bad config throws ConfigError naming the key', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ zones: [{ name: 'a', rate: '10/s' }] }, /firewall\.zones\[0\]\.rate/],
    [{ zones: [{ name: 'a', rate: '1r/s' }, { name: 'a', rate: '1r/s' }] }, /firewall\.zones\[1\]\.name: duplicate/],
    [{ zones: [{ name: 'a', rate: '1r/s', nodelay: true, delay: 3 }] }, /firewall\.zones\[0\]\.delay/],
    [{ zones: [{ name: 'a', rate: '1r/s', key: 'ip' }] }, /firewall\.zones\[0\]\.key/],
    [{ deny: ['10.0.0.0/40'] }, /firewall\.deny/],
    [{ bans: { banTime: 'soon' } }, /firewall\.bans\.banTime/],
    [{ bans: { scanner: { maxRetry: -1 } } }, /firewall\.bans\.scanner\.maxRetry/],
    [{ bots: { probeAction: 'explode' } }, /firewall\.bots\.probeAction/],
    [{ store: 'redis' }, /firewall\.redisUrl/],
    [{ adminListen: '0.0.0.0:9000' }, /firewall\.adminListen/],
    [{ rateLimit: 1 }, /firewall\.rateLimit: unknown setting/],
    [{ denyFiles: ['/nonexistent/deny.txt'] }, /firewall\.denyFiles/],
  ]
  for (const [config, re] of bad) assert.throws(() => createFirewall(config, { env: {}, log: () => {} }), (e: Error & { code?: string }) => e.code === 'CW_ERR_CONFIG' && re.test(e.message), JSON.stringify(config))
})

test('createClientIdentifier: a spoofed X-Forwarded-For from an untrusted peer changes nothing', async (t) => {
  const { fw } = make(t, { trustedProxies: ['127.0.0.1'], zones: [{ name: 'z', rate: '1r/m', nodelay: true }], bans: { enabled: false } })
  const id = fw.identifier
  assert.deepEqual(id.identify('198.51.100.20', '1.2.3.4'), { address: '198.51.100.20', group: '198.51.100.20' })
  assert.deepEqual(id.identify('127.0.0.1', '1.2.3.4, 5.6.7.8'), { address: '5.6.7.8', group: '5.6.7.8' })
  assert.deepEqual(id.identify('::ffff:127.0.0.1', '2001:db8:1:2:3:4:5:6'), { address: '2001:db8:1:2:3:4:5:6', group: '2001:db8:1:2::/64' })
  const results: string[] = []
  for (let i = 0; i < 5; i++) {
    const who = id.identify('198.51.100.20', `10.0.0.${i}`)
    results.push((await decide(fw, req(who.address))).action)
  }
  assert.deepEqual(results, ['allow', 'reject', 'reject', 'reject', 'reject'])
})
