// The firewall stage's cost in machine instructions per request of the EDGE process: a figure that
// does not move with the neighbours' load, unlike requests/s on a shared machine. Each target (no
// firewall, memory store, Redis store) runs as one edge process under `valgrind --tool=callgrind`
// (node --predictable: no background compiler or GC threads, so their work is on the main thread and
// counted), with the same config as bench/firewall.ts; this process (not traced) loads it over
// `--connections` keep-alive sockets, one request in flight on each, cycling through 1,000 client
// addresses (X-Forwarded-For from a trusted proxy). After the warm-up, callgrind_control zeroes the
// counters, N requests run, and the counters are dumped: one window, startup excluded.
//
// TurboFan keeps compiling long after the warm-up (functions called once per Redis batch get hot
// only after thousands of batches; with --predictable it compiles on the main thread, and one late
// compile adds up to 100,000 instructions per request to its window), so windows are run until the
// JIT has SETTLED: until one window spends under 0.5% of its instructions in the compiler (at most
// --settle windows). That window and the next ones, `--repeat` in all, are the measurement, and the
// figure is their MEAN (all their instructions over all their requests) WITHOUT the optimizing
// compiler's own instructions: compiling is warm-up work (at full speed on a background thread,
// and done once per function, not per request), and the late tier-ups still land in some windows
// at random. Everything else stays in: GC, deoptimized code running slower until it is compiled
// again, timers. No window is picked for being lucky; each window's compiler and GC instructions
// per request are shown, and the mean with the compiler too.
// The Redis client's work (ioredis, batching, reply parsing) is in the edge process and counted;
// redis-server is another process, not traced: its CPU is what bench/firewall.ts reports.
//
// Usage: node bin/run-ts.js bench/firewall-instructions.ts [--targets off,memory,redis]
//          [--requests 2000] [--warmup 10000] [--connections 32] [--route fixed|proxy] [--repeat 5]
//          [--settle 10] [--keep DIR] [--node-flags '--perf-basic-prof'] [--no-valgrind (just check that it runs)]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_BOT_RULES_FILE } from '../src/firewall/bots.ts'
import { edgeTable } from '../src/edge/config/tables.ts'
import { breakdown } from './callgrind-breakdown.ts'
import { USER_AGENTS, clientAddress, edgeConfig, firewallSection, writeListFiles, type FirewallTarget } from './firewall-setup.ts'
import { argOpt, freePort, have } from './edge-measure.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => argOpt(args, name, dflt)

await main()

async function main(): Promise<void> {
  const targets = opt('targets', 'off,memory,redis').split(',') as FirewallTarget[]
  const n = Number(opt('requests', '2000'))
  const warmup = Number(opt('warmup', '10000'))
  const connections = Number(opt('connections', '32'))
  const route = opt('route', 'fixed')
  const repeat = Number(opt('repeat', '5'))
  // At most this many windows are spent waiting for the JIT to settle (then the measurement starts anyway).
  const settleMax = Number(opt('settle', '10'))
  const valgrind = !args.includes('--no-valgrind')
  // --keep DIR: leave the callgrind files there (for callgrind_annotate); --node-flags '…': e.g.
  // --perf-basic-prof, whose /tmp/perf-PID.map names the JIT code callgrind shows as addresses.
  const keep = opt('keep', '')
  const nodeFlags = opt('node-flags', '').split(' ').filter(Boolean)
  const path = route === 'proxy' ? '/app/x' : '/fixed'

  const dir = mkdtempSync(join(tmpdir(), 'cw-fw-instr-'))
  writeListFiles(dir)

  let redisServer: ChildProcess | undefined
  let redisUrl = ''
  if (targets.includes('redis')) {
    const port = await freePort()
    redisServer = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
    await new Promise<void>((resolve) => {
      let out = ''
      redisServer!.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept')) resolve() })
    })
    redisUrl = `redis://127.0.0.1:${port}`
  }
  const upPort = await freePort()
  const upstream = spawn(process.execPath, ['-e', `require('http').createServer((q,r)=>{r.setHeader('content-type','text/plain');r.end('ok')}).listen(${upPort},'127.0.0.1',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((r) => upstream.stdout!.once('data', r))
  // A failed run must not leave its servers behind.
  process.once('exit', () => { upstream.kill('SIGTERM'); redisServer?.kill('SIGKILL') })

  // The traced edge is bundled once (plain JS: no TypeScript compiling under valgrind).
  const bundle = join(dir, 'edge.mjs')
  const esbuild = fileURLToPath(new URL('../node_modules/.bin/esbuild', import.meta.url))
  execFileSync(esbuild, [fileURLToPath(new URL('./firewall-instructions-edge.ts', import.meta.url)), '--bundle', '--platform=node', '--format=esm',
    `--outfile=${bundle}`, '--log-level=warning', "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"])
  copyFileSync(DEFAULT_BOT_RULES_FILE, join(dir, 'bot-rules.txt'))

  /** One measured window: instructions per request in all, and in the compiler and the GC. */
  interface Window { total: number; compiler: number; gc: number }
  /** How many EVALSHA the Redis edge sent (redis-server's own count; read from this process). */
  async function evalshaCalls(): Promise<number> {
    const { Redis } = await import('ioredis')
    const r = new Redis(redisUrl)
    const calls = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0)
    r.disconnect()
    return calls
  }

  /**
   * Runs one traced edge: the warm-up, windows of `n` requests until the JIT has settled (see the
   * top), then `repeat` measured windows, each counted alone (callgrind_control zeroes the counters
   * before a window and dumps them after it).
   */
  async function run(target: FirewallTarget): Promise<{ windows: Window[]; settling: number[]; perEval?: number }> {
    const port = await freePort()
    const fw = target === 'off' ? undefined : firewallSection(target, dir, { url: redisUrl, prefix: `causeway:fwinstr:${process.pid}:${target}:` })
    const file = join(dir, `${target}.json`)
    writeFileSync(file, JSON.stringify(edgeConfig({ port, workers: 1, upstreamPort: upPort, firewall: fw })))
    const out = join(keep || dir, `${target}.cg`)
    // The edge's own node flags (edge.nodeArgs' default, as `causeway edge` starts its processes).
    const node = [process.execPath, '--predictable', ...edgeTable.nodeArgs.default, ...nodeFlags, bundle, file, dir]
    const cmd = valgrind ? ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, ...node] : node
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } })
    let log = ''
    child.stderr!.on('data', (b) => { log += b })
    await new Promise<void>((resolve, reject) => {
      let o = ''
      child.stdout!.on('data', (b) => { o += b; if (/port \d+/.test(o)) resolve() })
      child.once('exit', (c) => reject(new Error(`edge ${target} exited (${c}): ${log.slice(-2000)}`)))
    })
    await drive(port, warmup)
    const windows: Window[] = []
    const settling: number[] = []
    let calls0 = 0
    for (let w = 1; windows.length < repeat; w++) {
      if (valgrind) execFileSync('callgrind_control', ['-z', String(child.pid)])
      await drive(port, n)
      if (!valgrind) { windows.push({ total: 0, compiler: 0, gc: 0 }); continue }
      execFileSync('callgrind_control', ['-d', String(child.pid)])
      const c = breakdown(`${out}.${w}`)
      const x: Window = { total: c.total / n, compiler: c.compiler / n, gc: c.gc / n }
      const settled = windows.length > 0 || c.compiler < 0.005 * c.total || settling.length >= settleMax
      if (settled && windows.length === 0 && target === 'redis') calls0 = await evalshaCalls()
      if (settled) windows.push(x)
      else settling.push(x.total)
      console.error(`${target}: window ${w}${settled ? '' : ' (settling)'}: ${Math.round(x.total)} instructions per request (compiler ${Math.round(x.compiler)}, GC ${Math.round(x.gc)})`)
    }
    // The Redis store falls back on local limits while Redis does not answer: such windows would
    // not measure Redis (the edge gives Redis a minute under valgrind; see firewall-instructions-edge.ts).
    if (/Redis unreachable/.test(log)) throw new Error(`edge ${target}: Redis was taken for down during the run: ${log.slice(-1000)}`)
    // Decisions per EVALSHA in the measured windows (the batching the Redis figure depends on); the
    // first measured window's count is taken after it ran, so that window is left out of it.
    const perEval = target === 'redis' && valgrind ? ((repeat - 1) * n) / Math.max(1, (await evalshaCalls()) - calls0) : undefined
    const exited = new Promise((r) => child.once('exit', r))
    child.stdin!.end()
    await exited
    return { windows, settling, perEval }
  }

  /** `n` requests over `connections` keep-alive sockets, one in flight each; all must be 200. */
  function drive(port: number, n: number): Promise<void> {
    const reqs = Array.from({ length: 1000 }, (_, k) => Buffer.from(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Forwarded-For: ${clientAddress(k)}\r\nUser-Agent: ${USER_AGENTS[k % 4]}\r\nAccept: */*\r\n\r\n`))
    return new Promise((resolve, reject) => {
      let sent = 0
      let answered = 0
      let open = connections
      for (let c = 0; c < connections; c++) {
        const s: Socket = connect(port, '127.0.0.1')
        s.setNoDelay(true)
        const next = () => {
          if (sent < n) { s.write(reqs[sent++ % 1000]!) } else { s.end(); if (--open === 0) answered === n ? resolve() : reject(new Error(`${answered}/${n}`)) }
        }
        s.on('connect', next)
        s.on('data', (d: Buffer) => {
          const text = d.toString('latin1')
          for (let i = text.indexOf('HTTP/1.1 '); i !== -1; i = text.indexOf('HTTP/1.1 ', i + 1)) {
            if (!text.startsWith('HTTP/1.1 200', i)) return reject(new Error(`unexpected response: ${text.slice(i, i + 200)}`))
            answered++
            next()
          }
        })
        s.on('error', reject)
      }
    })
  }

  if (valgrind && have('valgrind') === null) throw new Error('valgrind is not installed')
  const results = new Map<FirewallTarget, Awaited<ReturnType<typeof run>>>()
  for (const t of targets) results.set(t, await run(t))
  upstream.kill('SIGTERM')
  redisServer?.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  if (!valgrind) { console.log('ran without valgrind: no instruction counts'); return }

  const mean = (ws: Window[], k: keyof Window) => ws.reduce((a, w) => a + w[k], 0) / ws.length
  // The figure: instructions per request without the optimizing compiler's (see the top).
  const steady = (t: FirewallTarget) => mean(results.get(t)!.windows, 'total') - mean(results.get(t)!.windows, 'compiler')
  const off = results.get('off') ? steady('off') : undefined
  const perEval = results.get('redis')?.perEval
  console.log(`edge instructions per request (callgrind, route ${route}, ${connections} connections, windows of ${n} requests after ${warmup} warm-up; ` +
    `the MEAN of ${repeat} windows once the JIT has settled, without TurboFan's own instructions)${perEval ? ` (Redis: ${perEval.toFixed(1)} decisions per EVALSHA)` : ''}`)
  console.table(Object.fromEntries(targets.map((t) => {
    const r = results.get(t)!
    const v = steady(t)
    return [t, {
      'instructions/request': Math.round(v),
      'with compiler': Math.round(mean(r.windows, 'total')),
      windows: r.windows.map((x) => Math.round(x.total - x.compiler)).join(' / '),
      'compiler, GC': `${Math.round(mean(r.windows, 'compiler'))}, ${Math.round(mean(r.windows, 'gc'))}`,
      settling: r.settling.map((x) => Math.round(x)).join(' / '),
      ...(off !== undefined && t !== 'off' ? { 'firewall stage': Math.round(v - off), 'cost (1 − off/on)': `${((1 - off / v) * 100).toFixed(1)}%` } : {}),
    }]
  })))
}
