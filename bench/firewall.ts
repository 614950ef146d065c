// Firewall benchmark (issue 7): what the firewall stage costs the EDGE. Three `causeway edge`
// processes run side by side with the same routes — one without a `firewall` section, one with the
// firewall on the memory store, one on Redis — and wrk loads them in interleaved rounds on two
// routes: a fixed response (`respond`, the edge's cheapest route, so the stage's share is largest)
// and a proxied one (`proxy` to a tiny upstream). cost = 1 − on/off, from the same run.
//
// The firewall config is a realistic one, not a minimal one: a limit_req zone per client (burst
// high enough that the load is never rejected: the cost measured is the check, not 429s), a
// per-client connection limit, the default bot/probe rules and malformed-request checks, and
// allow and deny lists. The load comes from 1,000 client addresses (X-Forwarded-For from a
// trusted proxy, 127.0.0.1) with browser-like user agents.
//
// Besides requests/s (noisy on a shared machine) it reports each edge's own CPU µs per request
// (from /proc/PID/stat around each run), which the neighbours barely move.
//
// Usage: node bin/run-ts.js bench/firewall.ts [--duration 3] [--rounds 3] [--connections 64]
//          [--redis URL] [--routes fixed,proxy] [--targets off,memory,redis] [--baseline DIR]
// Without --redis the bench starts its own redis-server (and reports its CPU per request).
// Wrap it in `flock /tmp/bench.lock` on a shared machine.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? dflt : args[i + 1]!
}
const duration = Number(opt('duration', '3'))
const rounds = Number(opt('rounds', '3'))
const connections = Number(opt('connections', '64'))
const threads = Number(opt('threads', '2'))
let REDIS = opt('redis', '')
const PREFIX = `causeway:fwbench:${process.pid}:`
const routeNames = opt('routes', 'fixed,proxy').split(',')
let targetNames = opt('targets', 'off,memory,redis').split(',')
// --baseline DIR: also run memory/redis edges from another checkout (e.g. `git archive main`),
// in the same interleaved rounds, to compare before and after.
const baseline = opt('baseline', '')
if (baseline) targetNames = [...targetNames, ...targetNames.filter((t) => t !== 'off').map((t) => `${t}@base`)]

if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) {
  console.error('bench/firewall: wrk is not installed')
  process.exit(1)
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function redisUp(url: string): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(u.port) || 6379, u.hostname)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** utime + stime of a process in µs (Linux). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(f[11]) + Number(f[12])
  return (ticks * 1e6) / 100 // USER_HZ is 100 on Linux
}

const dir = mkdtempSync(join(tmpdir(), 'cw-bench-fw-'))
// A private redis-server unless --redis is given: nobody else's keys or load in it, and its CPU per
// request is reported (on one machine, Redis's CPU is taken from the edge's).
let redisServer: ChildProcess | undefined
if (!REDIS && targetNames.includes('redis') && spawnSync('sh', ['-c', 'command -v redis-server']).status === 0) {
  const port = await freePort()
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve) => {
    let out = ''
    redisServer!.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept')) resolve() })
    redisServer!.once('exit', () => resolve())
  })
  REDIS = `redis://127.0.0.1:${port}`
}
REDIS ||= process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
if (targetNames.includes('redis') && !(await redisUp(REDIS))) {
  console.error(`Redis is not reachable at ${REDIS}: the Redis edge is skipped`)
  targetNames = targetNames.filter((t) => t !== 'redis')
}

// The upstream of the proxied route: a bare node:http answering 'ok'.
const upPort = await freePort()
const upstream = spawn(process.execPath, ['-e', `require('http').createServer((q,r)=>{r.setHeader('content-type','text/plain');r.end('ok')}).listen(${upPort},'127.0.0.1',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((r) => upstream.stdout!.once('data', r))

writeFileSync(join(dir, 'allow.txt'), '# office\n192.0.2.0/24\n2001:db8:aaaa::/48\n')
writeFileSync(join(dir, 'deny.txt'), '# known abusers\n198.51.100.0/24\n203.0.113.7\n2001:db8:dead::/48\n')

function firewallSection(name: string): Record<string, unknown> {
  const store = name.replace('@base', '')
  return {
    store,
    ...(store === 'redis' ? { redisUrl: REDIS, redisPrefix: `${PREFIX}${name === store ? '' : 'base:'}` } : {}),
    trustedProxies: ['127.0.0.1'],
    // One zone per client; burst high enough that the load is never rejected.
    zones: [{ name: 'per-client', rate: '10000r/s', burst: 100000, nodelay: true }],
    connectionsPerClient: 1024,
    allow: ['10.200.0.0/16'],
    allowFiles: [join(dir, 'allow.txt')],
    deny: ['192.0.2.66', '2001:db8:bad::/48'],
    denyFiles: [join(dir, 'deny.txt')],
    bots: {}, // the default scanner/probe list and malformed-request checks
    logBlocks: true,
  }
}

interface Target { name: string; port: number; child: ChildProcess }
async function startEdge(name: string): Promise<Target> {
  const port = await freePort()
  const config = {
    edge: {
      workers: 1,
      listen: [{ port }],
      trustedProxies: ['127.0.0.1'],
      accessLog: { format: 'off' },
      upstreams: { app: { targets: [`http://127.0.0.1:${upPort}`], keepalive: { connections: 128 } } },
      routes: [
        { name: 'fixed', match: { path: '/fixed' }, action: { respond: { body: 'ok\n' } } },
        { name: 'app', match: { pathPrefix: '/app/' }, action: { proxy: { pool: 'app' } } },
      ],
    },
    journey: { enabled: false },
    ...(name === 'off' ? {} : { firewall: firewallSection(name) }),
  }
  const file = join(dir, `${name.replace('@', '-')}.config.mjs`)
  writeFileSync(file, `export default ${JSON.stringify(config)}\n`)
  const bin = name.endsWith('@base') ? join(baseline, 'bin/causeway.js') : fileURLToPath(new URL('../bin/causeway.js', import.meta.url))
  const child = spawn(process.execPath, [bin, 'edge', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } })
  let out = ''
  child.stdout!.on('data', (c) => { out += c })
  child.stderr!.on('data', (c) => { out += c })
  const early = (code: number | null) => { console.error(`edge ${name} exited early (${code})`, out); process.exit(1) }
  child.on('exit', early)
  while (!/listening on/.test(out)) await new Promise((r) => setTimeout(r, 50))
  child.removeListener('exit', early)
  return { name, port, child }
}

// wrk: every request from one of 1,000 clients (X-Forwarded-For), with browser user agents.
const script = join(dir, 'clients.lua')
writeFileSync(script, `
local agents = {
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
}
local reqs = {}
local i = 0
init = function(args)
  for k = 0, 999 do
    local ip = "10." .. math.floor(k / 256) .. "." .. (k % 256) .. ".7"
    reqs[k + 1] = wrk.format(nil, nil, { ["X-Forwarded-For"] = ip, ["User-Agent"] = agents[(k % 4) + 1], ["Accept"] = "*/*" })
  end
  i = math.random(0, 999)
end
request = function()
  i = (i % 1000) + 1
  return reqs[i]
end
`)

function wrk(url: string, seconds: number): { rps: number; non2xx: number } {
  const raw = execFileSync('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', script, url], { encoding: 'utf8' })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(raw)
  const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)
  return { rps: m ? Number(m[1]) : 0, non2xx: bad ? Number(bad[1]) : 0 }
}

const targets: Target[] = []
for (const name of targetNames) targets.push(await startEdge(name))
const paths: Record<string, string> = { fixed: '/fixed', proxy: '/app/x' }

interface Sample { rps: number; cpu: number; redisCpu: number; non2xx: number }
const samples = new Map<string, Sample[]>()
for (const t of targets) for (const r of routeNames) wrk(`http://127.0.0.1:${t.port}${paths[r]}`, 1) // warm-up
for (let round = 0; round < rounds; round++) {
  for (const r of routeNames) {
    // Alternate the order each round so no target always follows the same neighbour.
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const t of order) {
      const c0 = cpuMicros(t.child.pid!)
      const r0 = redisServer ? cpuMicros(redisServer.pid!) : 0
      const w = wrk(`http://127.0.0.1:${t.port}${paths[r]}`, duration)
      const c1 = cpuMicros(t.child.pid!)
      const r1 = redisServer ? cpuMicros(redisServer.pid!) : 0
      const key = `${r}/${t.name}`
      const list = samples.get(key) ?? []
      list.push({ rps: w.rps, cpu: (c1 - c0) / (w.rps * duration), redisCpu: (r1 - r0) / (w.rps * duration), non2xx: w.non2xx })
      samples.set(key, list)
    }
  }
}

for (const t of targets) t.child.kill('SIGTERM')
upstream.kill('SIGTERM')
redisServer?.kill('SIGKILL')
if (targetNames.includes('redis') && !redisServer) {
  const { Redis } = await import('ioredis')
  const r = new Redis(REDIS)
  let cursor = '0'
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) await r.del(...keys)
  } while (cursor !== '0')
  r.disconnect()
}
await new Promise((r) => setTimeout(r, 300))
rmSync(dir, { recursive: true, force: true })

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
console.log(`firewall stage cost on the edge: ${connections} connections, 1,000 clients, ${rounds} interleaved rounds of ${duration}s`)
for (const r of routeNames) {
  const off = samples.get(`${r}/off`)
  const rows: Record<string, Record<string, string | number>> = {}
  for (const t of targets) {
    const s = samples.get(`${r}/${t.name}`)!
    const row: Record<string, string | number> = {
      'best req/s': Math.round(Math.max(...s.map((x) => x.rps))),
      'median req/s': Math.round(median(s.map((x) => x.rps))),
      'CPU µs/req': Number(median(s.map((x) => x.cpu)).toFixed(1)),
      ...(t.name.startsWith('redis') && redisServer ? { 'redis-server CPU µs/req': Number(median(s.map((x) => x.redisCpu)).toFixed(1)) } : {}),
      'non-2xx': s.reduce((a, x) => a + x.non2xx, 0),
    }
    if (off && t.name !== 'off') {
      const bestOff = Math.max(...off.map((x) => x.rps))
      row['cost (best req/s)'] = pct(1 - (row['best req/s'] as number) / bestOff)
      row['cost (median req/s)'] = pct(1 - (row['median req/s'] as number) / median(off.map((x) => x.rps)))
      // Paired: each round's on/off ratio (measured seconds apart), then the median over rounds.
      row['cost (paired rounds)'] = pct(median(s.map((x, i) => 1 - x.rps / off[i]!.rps)))
      // If the edge is CPU-bound, req/s ∝ 1/CPU per request: the cost that CPU time implies.
      row['cost (CPU/req)'] = pct(1 - median(off.map((x) => x.cpu)) / median(s.map((x) => x.cpu)))
    }
    rows[t.name] = row
  }
  console.log(`\nroute ${r} (${paths[r]}): rounds ${targets.map((t) => `${t.name}=${samples.get(`${r}/${t.name}`)!.map((x) => Math.round(x.rps)).join('/')}`).join('  ')}`)
  console.table(rows)
}
