// In-process cost of the firewall per request, steadier than any HTTP run on a shared machine:
// CPU µs per request of decide() + observe() (what the edge's stage calls) with the same
// realistic config as bench/firewall.ts (per-client zone, limit_conn, default bot rules, allow
// and deny lists), for 1,000 clients. Memory: sequential. Redis: 64 requests in flight, as an edge
// under load has them, so batching shows; the CPU counted is this process's (not Redis's).
// Usage: node bin/run-ts.js bench/firewall-decide.ts [--seconds 2] [--redis URL] [--store memory|redis|both]
// (redis-server CPU per request is shown when the bench starts its own redis-server: no --redis)
import net from 'node:net'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFirewall, RedisStore, type FirewallService } from '../src/firewall/index.ts'
import type { FirewallRequest } from '../src/firewall/contract.ts'

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : process.argv[i + 1]!
}
const SECONDS = Number(arg('seconds', '2'))
// A private redis-server by default, so its CPU per decision can be read (and nobody else's load
// is in it); --redis URL uses that server instead.
let REDIS = arg('redis', '')
let redisServer: ChildProcess | undefined
if (!REDIS) {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
  redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  redisServer.on('error', () => {})
  await new Promise<void>((resolve) => {
    let out = ''
    redisServer!.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept')) resolve() })
    redisServer!.once('exit', () => resolve())
  })
  REDIS = `redis://127.0.0.1:${port}`
}
/** utime + stime of a process in µs (Linux), or NaN. */
function cpuOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100
  } catch { return NaN }
}
const which = arg('store', 'both')
const PREFIX = `causeway:fwdecide:${process.pid}:`

const dir = mkdtempSync(join(tmpdir(), 'cw-fw-decide-'))
writeFileSync(join(dir, 'allow.txt'), '192.0.2.0/24\n2001:db8:aaaa::/48\n')
writeFileSync(join(dir, 'deny.txt'), '198.51.100.0/24\n203.0.113.7\n2001:db8:dead::/48\n')
const config = (store: string) => ({
  store, redisUrl: REDIS, redisPrefix: PREFIX, trustedProxies: ['127.0.0.1'],
  zones: [{ name: 'per-client', rate: '10000r/s', burst: 100000, nodelay: true }],
  connectionsPerClient: 1024,
  allow: ['10.200.0.0/16'], allowFiles: ['allow.txt'], deny: ['192.0.2.66', '2001:db8:bad::/48'], denyFiles: ['deny.txt'],
  bots: {},
})

const agents = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
]
const requests: FirewallRequest[] = Array.from({ length: 1000 }, (_, k) => {
  const ip = `10.${k >> 8}.${k & 255}.7`
  return {
    clientAddress: ip, method: 'GET', path: k % 2 ? '/products/shoe-42/' : '/static/app.css', route: k % 2 ? 'app' : 'static', httpVersion: '1.1',
    headers: { host: 'shop.example', 'user-agent': agents[k % 2], accept: '*/*', 'accept-encoding': 'gzip, br', 'accept-language': 'en', 'x-forwarded-for': ip },
  }
})
const rawHeaders = requests.map((r) => Object.entries(r.headers).flatMap(([k, v]) => [k, Buffer.from(String(v), 'latin1')]))
const responseHeaders = { 'content-type': 'text/html', 'content-length': '1234' }

function cpu(): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

async function run(fw: FirewallService, inFlight: number): Promise<{ perSec: number; cpuUs: number; redisUs: number }> {
  let n = 0
  const end = Date.now() + SECONDS * 1000
  const c0 = cpu()
  const r0 = cpuOf(redisServer?.pid)
  const t0 = process.hrtime.bigint()
  const loop = async (offset: number) => {
    while (Date.now() < end) {
      for (let k = 0; k < 100; k++) {
        // Fresh objects and header strings each time, as the edge builds one FirewallRequest per
        // request from node:http's freshly parsed headers (a string looked up in a Map is hashed
        // anew each request; a shared one would be hashed once).
        const i = (n + offset) % requests.length
        const base = requests[i]!
        const raw = rawHeaders[i]!
        const headers: Record<string, string> = {}
        for (let h = 0; h < raw.length; h += 2) headers[raw[h] as string] = (raw[h + 1] as Buffer).toString('latin1')
        const req = { ...base, clientAddress: headers['x-forwarded-for']!, headers }
        const d = fw.decide(req)
        const r = d instanceof Promise ? await d : d
        if (r.action !== 'allow') throw new Error(`unexpected ${JSON.stringify(r)}`)
        fw.observe(req, 200, responseHeaders)
        n++
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, (_, i) => loop(i * 7)))
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  return { perSec: Math.round(n / s), cpuUs: Number(((cpu() - c0) / n).toFixed(2)), redisUs: Number(((cpuOf(redisServer?.pid) - r0) / n).toFixed(2)) }
}

const results: Record<string, unknown> = {}
if (which !== 'redis') {
  const mem = createFirewall(config('memory'), { env: {}, log: () => {}, root: dir })
  await run(mem, 1) // warm-up
  results['memory, sequential'] = await run(mem, 1)
  results['memory, 64 in flight'] = await run(mem, 64)
  await mem.close()
}
const up = await new Promise<boolean>((resolve) => {
  const u = new URL(REDIS)
  const s = net.connect(Number(u.port) || 6379, u.hostname)
  s.once('connect', () => { s.destroy(); resolve(true) })
  s.once('error', () => resolve(false))
})
if (which !== 'memory' && up) {
  const red = createFirewall(config('redis'), { env: {}, log: () => {}, root: dir })
  await (red.store as RedisStore).ready()
  await run(red, 64) // warm-up
  results['redis, sequential'] = await run(red, 1)
  results['redis, 64 in flight'] = await run(red, 64)
  await (red.store as RedisStore).clear()
  await red.close()
}
rmSync(dir, { recursive: true, force: true })
redisServer?.kill('SIGKILL')
console.table(Object.fromEntries(Object.entries(results).map(([k, v]) => {
  const r = v as { perSec: number; cpuUs: number; redisUs: number }
  return [k, { 'decisions/s': r.perSec, 'CPU µs/request (this process)': r.cpuUs, ...(k.startsWith('redis') && redisServer ? { 'redis-server CPU µs/request': r.redisUs } : {}) }]
})))
