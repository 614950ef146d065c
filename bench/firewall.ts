// Firewall benchmark (issue 7): what the firewall stage costs the EDGE. Three `causeway edge`
// processes run side by side with the same routes — one without a `firewall` section, one with the
// firewall on the memory store, one on Redis — and wrk loads them in interleaved rounds on two
// routes: a fixed response (`respond`, the edge's cheapest route, so the stage's share is largest)
// and a proxied one (`proxy` to a tiny upstream). The config and the load's 1,000 client addresses
// are bench/firewall-setup.ts's (shared with bench/firewall-instructions.ts).
//
// Requests/s on a shared machine swing ±20% between identical runs, more than the cost to show, so
// the cost is read from PAIRS: every round runs each target once, back to back (the order rotates
// each round, so no target always follows the same neighbour), and each round gives one on/off
// ratio. The bench reports the median of those per-round costs with a distribution-free 95%
// confidence interval of that median (order statistics: no assumption about the noise's shape), for
// requests/s and for the edge's CPU per request (CPU time of the edge's whole process tree, from
// /proc/…/schedstat in ns, over wrk's request count; steadier than requests/s). Many short rounds
// beat a few long ones: the noise comes in bursts longer than a run.
//
// Every target runs the same number of edge processes (`--workers`, default 1; the bench checks
// the process count): `edge.workers: "auto"` would give the memory store one process and Redis one
// per core, which compares unlike things.
//
// On a machine with 2+ cores and `taskset`, the edges (and the proxied route's upstream) run on
// core 0, wrk and the bench's own redis-server on core 1, as `npm run bench` pins its servers: the
// load generator then never takes the edge's core, which steadies both req/s and CPU per request
// (--no-pin to turn it off).
//
// Usage: node bin/run-ts.js bench/firewall.ts [--duration 1] [--rounds 20] [--connections 64]
//          [--workers 1] [--redis URL] [--routes fixed,proxy] [--targets off,memory,redis] [--baseline DIR] [--no-pin]
// Without --redis the bench starts its own redis-server (and reports its CPU per request).
// Wrap it in `flock /tmp/bench.lock` on a shared machine; one route (`--routes fixed`) keeps the
// defaults at 60 s of load.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpus } from 'node:os'
import { argOpt, freePort, have, treeCpuNs } from './edge-measure.ts'
import { USER_AGENTS, clientAddress, edgeConfig, firewallSection, writeListFiles } from './firewall-setup.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => argOpt(args, name, dflt)
const duration = Number(opt('duration', '1'))
const rounds = Number(opt('rounds', '20'))
const connections = Number(opt('connections', '64'))
const threads = Number(opt('threads', '2'))
const workers = Number(opt('workers', '1'))
let REDIS = opt('redis', '')
const PREFIX = `causeway:fwbench:${process.pid}:`
const routeNames = opt('routes', 'fixed,proxy').split(',')
let targetNames = opt('targets', 'off,memory,redis').split(',')
// --baseline DIR: also run memory/redis edges from another checkout (e.g. `git archive main`),
// in the same interleaved rounds, to compare before and after.
const baseline = opt('baseline', '')
if (baseline) targetNames = [...targetNames, ...targetNames.filter((t) => t !== 'off').map((t) => `${t}@base`)]

const pin = !args.includes('--no-pin') && cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0
/** `cmd args` to run on one core (taskset), or as it is when not pinning. */
const onCore = (core: number, cmd: string, cmdArgs: string[]): [string, string[]] => (pin ? ['taskset', ['-c', String(core), cmd, ...cmdArgs]] : [cmd, cmdArgs])

if (have('wrk') === null) {
  console.error('bench/firewall: wrk is not installed')
  process.exit(1)
}

async function redisUp(url: string): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = connect(Number(u.port) || 6379, u.hostname)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/**
 * The edge's node processes: itself and its node children (with workers > 1, a primary and its
 * workers). Other children (tsx's esbuild service, while it lives) are not edge processes.
 */
function processCount(pid: number): number {
  let n = 1
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid && st.includes('(node)')) n++
    } catch { /* gone */ }
  }
  return n
}

const dir = mkdtempSync(join(tmpdir(), 'cw-bench-fw-'))
// A private redis-server unless --redis is given: nobody else's keys or load in it, and its CPU per
// request is reported (on one machine, Redis's CPU is taken from the edge's).
let redisServer: ChildProcess | undefined
if (!REDIS && targetNames.some((t) => t.startsWith('redis')) && have('redis-server') !== null) {
  const port = await freePort()
  redisServer = spawn(...onCore(1, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']), { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve) => {
    let out = ''
    redisServer!.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept')) resolve() })
    redisServer!.once('exit', () => resolve())
  })
  REDIS = `redis://127.0.0.1:${port}`
}
REDIS ||= process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
if (targetNames.some((t) => t.startsWith('redis')) && !(await redisUp(REDIS))) {
  console.error(`Redis is not reachable at ${REDIS}: the Redis edges are skipped`)
  targetNames = targetNames.filter((t) => !t.startsWith('redis'))
}

// The upstream of the proxied route: a bare node:http answering 'ok'.
const upPort = await freePort()
const upstream = spawn(...onCore(0, process.execPath, ['-e', `require('http').createServer((q,r)=>{r.setHeader('content-type','text/plain');r.end('ok')}).listen(${upPort},'127.0.0.1',()=>console.log('up'))`]), { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((r) => upstream.stdout!.once('data', r))
writeListFiles(dir)

interface Target { name: string; port: number; child: ChildProcess }
async function startEdge(name: string): Promise<Target> {
  const port = await freePort()
  const store = name.replace('@base', '') as 'off' | 'memory' | 'redis'
  const firewall = store === 'off' ? undefined : firewallSection(store, dir, { url: REDIS, prefix: `${PREFIX}${name === store ? '' : 'base:'}` })
  const config = edgeConfig({ port, workers, upstreamPort: upPort, firewall })
  const file = join(dir, `${name.replace('@', '-')}.config.mjs`)
  writeFileSync(file, `export default ${JSON.stringify(config)}\n`)
  const bin = name.endsWith('@base') ? join(baseline, 'bin/causeway.js') : fileURLToPath(new URL('../bin/causeway.js', import.meta.url))
  const child = spawn(...onCore(0, process.execPath, [bin, 'edge', '--config', file]), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } })
  let out = ''
  child.stdout!.on('data', (c) => { out += c })
  child.stderr!.on('data', (c) => { out += c })
  const early = (code: number | null) => { console.error(`edge ${name} exited early (${code})`, out); process.exit(1) }
  child.on('exit', early)
  // Every process must be up before the load (a worker's start-up CPU is not the stage's cost).
  while ((out.match(/listening on/g) ?? []).length < workers) await new Promise((r) => setTimeout(r, 50))
  child.removeListener('exit', early)
  return { name, port, child }
}

// wrk: every request from one of 1,000 clients (X-Forwarded-For), with browser user agents.
const script = join(dir, 'clients.lua')
writeFileSync(script, `
local agents = { ${USER_AGENTS.map((a) => JSON.stringify(a)).join(', ')} }
local clients = { ${Array.from({ length: 1000 }, (_, k) => JSON.stringify(clientAddress(k))).join(', ')} }
local reqs = {}
local i = 0
init = function(args)
  for k = 1, 1000 do
    reqs[k] = wrk.format(nil, nil, { ["X-Forwarded-For"] = clients[k], ["User-Agent"] = agents[((k - 1) % 4) + 1], ["Accept"] = "*/*" })
  end
  i = math.random(0, 999)
end
request = function()
  i = (i % 1000) + 1
  return reqs[i]
end
`)

function wrk(url: string, seconds: number): { rps: number; requests: number; non2xx: number } {
  const raw = execFileSync(...onCore(1, 'wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', script, url]), { encoding: 'utf8' })
  const m = /Requests\/sec:\s+([\d.]+)/.exec(raw)
  const n = /(\d+) requests in/.exec(raw)
  const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(raw)
  return { rps: m ? Number(m[1]) : 0, requests: n ? Number(n[1]) : 0, non2xx: bad ? Number(bad[1]) : 0 }
}

const targets: Target[] = []
for (const name of targetNames) targets.push(await startEdge(name))
const counts = targets.map((t) => `${t.name}=${processCount(t.child.pid!)}`)
console.log(`edge processes per target: ${counts.join(' ')}`)
if (new Set(counts.map((c) => c.split('=')[1])).size !== 1) {
  console.error('bench/firewall: the targets run different numbers of edge processes; not comparable')
  for (const t of targets) t.child.kill('SIGTERM')
  upstream.kill('SIGTERM')
  redisServer?.kill('SIGKILL')
  process.exit(1)
}
const paths: Record<string, string> = { fixed: '/fixed', proxy: '/app/x' }

interface Sample { rps: number; cpu: number; redisCpu: number; non2xx: number }
const samples = new Map<string, Sample[]>()
for (const t of targets) for (const r of routeNames) wrk(`http://127.0.0.1:${t.port}${paths[r]}`, 1) // warm-up
for (let round = 0; round < rounds; round++) {
  for (const r of routeNames) {
    // Rotate the order each round so no target always runs first or follows the same neighbour.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!)
    for (const t of order) {
      const c0 = treeCpuNs(t.child.pid!)
      const r0 = redisServer ? treeCpuNs(redisServer.pid!) : 0
      const w = wrk(`http://127.0.0.1:${t.port}${paths[r]}`, duration)
      const c1 = treeCpuNs(t.child.pid!)
      const r1 = redisServer ? treeCpuNs(redisServer.pid!) : 0
      const key = `${r}/${t.name}`
      const list = samples.get(key) ?? []
      const n = Math.max(1, w.requests)
      list.push({ rps: w.rps, cpu: (c1 - c0) / 1000 / n, redisCpu: (r1 - r0) / 1000 / n, non2xx: w.non2xx })
      samples.set(key, list)
    }
  }
}

for (const t of targets) t.child.kill('SIGTERM')
upstream.kill('SIGTERM')
redisServer?.kill('SIGKILL')
if (targetNames.some((t) => t.startsWith('redis')) && !redisServer) {
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

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const median = (xs: number[]) => {
  const s = sorted(xs)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
/**
 * A distribution-free 95% confidence interval of the median: the k-th smallest and k-th largest
 * of n values, with k the largest rank such that P(Binomial(n, ½) < k) ≤ 2.5% (n ≥ 6).
 */
function medianInterval(xs: number[]): [number, number] | undefined {
  const n = xs.length
  let below = 0 // P(Binomial(n, ½) <= k - 1)
  let k = 0
  let c = 1 // C(n, i)
  for (let i = 0; i < n; i++) {
    below += c / 2 ** n
    if (below > 0.025) break
    k = i + 1
    c = (c * (n - i)) / (i + 1)
  }
  if (k === 0) return undefined
  const s = sorted(xs)
  return [s[k - 1]!, s[n - k]!]
}
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const costOf = (xs: number[]) => {
  const ci = medianInterval(xs)
  return `${pct(median(xs))}${ci ? ` [${pct(ci[0])}, ${pct(ci[1])}]` : ''}`
}
console.log(`firewall stage cost on the edge: ${connections} connections, 1,000 clients, ${workers} edge process(es) each, ${rounds} interleaved rounds of ${duration}s; ${pin ? 'edges on core 0, wrk and redis-server on core 1 (taskset)' : 'not pinned'}`)
console.log('cost = median over rounds of (1 − on/off) within the round, [95% confidence interval of that median]')
for (const r of routeNames) {
  const off = samples.get(`${r}/off`)
  const rows: Record<string, Record<string, string | number>> = {}
  for (const t of targets) {
    const s = samples.get(`${r}/${t.name}`)!
    const row: Record<string, string | number> = {
      'median req/s': Math.round(median(s.map((x) => x.rps))),
      'edge CPU µs/req': Number(median(s.map((x) => x.cpu)).toFixed(1)),
      ...(t.name.startsWith('redis') && redisServer ? { 'redis-server CPU µs/req': Number(median(s.map((x) => x.redisCpu)).toFixed(1)) } : {}),
      'non-2xx': s.reduce((a, x) => a + x.non2xx, 0),
    }
    if (off && t.name !== 'off') {
      row['cost: req/s (paired)'] = costOf(s.map((x, i) => 1 - x.rps / off[i]!.rps))
      // CPU per request is what the stage adds; neighbours move it less than they move req/s.
      row['cost: edge CPU/req (paired)'] = costOf(s.map((x, i) => 1 - off[i]!.cpu / x.cpu))
      row['cost: median req/s'] = pct(1 - median(s.map((x) => x.rps)) / median(off.map((x) => x.rps)))
    }
    rows[t.name] = row
  }
  console.log(`\nroute ${r} (${paths[r]}): req/s per round ${targets.map((t) => `${t.name}=${samples.get(`${r}/${t.name}`)!.map((x) => Math.round(x.rps)).join('/')}`).join('  ')}`)
  console.table(rows)
}
