// The EDGE's cost per proxied page in machine instructions, in the shape `causeway up` runs the shop
// (bench/shop-up-probe.sh): one edge process with the config `up` builds for it (src/up/topology.ts's
// single topology: one catch-all proxy route to the app server, the journey hosting the collector,
// the dashboard and the OTLP endpoint, the combined access log, here to a file), the firewall on
// Redis (`--firewall off|memory|redis`), and behind it an upstream that answers like the shop's
// logged-in product page: a ~20 KB gzip'd HTML body with the shop's response headers. The upstream
// is a worker in miniature: it records its spans through src/journey (traceHttpRequest and `--spans`
// spans per sampled request, as the shop's middleware, view and queries do) and exports them over
// OTLP/HTTP JSON to the edge's endpoint, so the edge's work of receiving and decoding the workers'
// spans is counted too. The load (this process, not traced) sends the product page's request with
// a session cookie over `--connections` keep-alive sockets, one request in flight on each.
// Sampling: `journey.sampleRatio` 0.05 (the default) without the per-second reservoir, which under
// valgrind (~50 times slower) would sample far more requests than at full speed.
//
// The edge runs under `valgrind --tool=callgrind` (node --predictable: the compiler and GC on the
// main thread). After the warm-up, windows of `--requests` requests are counted one by one
// (callgrind_control -z / -d) until the JIT has settled (< 0.5% of a window in the compiler); that
// window and the next, `--repeat` in all, are the figure: their MEAN instructions per request
// without TurboFan's own (warm-up work done once per function; see bench/firewall-instructions.ts).
//
// Usage: node bin/run-ts.js bench/edge-page-instructions.ts [--firewall redis|memory|off]
//          [--requests 2000] [--warmup 10000] [--connections 64] [--repeat 3] [--settle 10]
//          [--spans 10] [--keep DIR] [--node-flags '--perf-basic-prof'] [--no-valgrind]
// Wrap it in `flock -s /tmp/bench.lock …` on a shared machine (see the brief in docs/benchmarks.md).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { DEFAULT_BOT_RULES_FILE } from '../src/firewall/bots.ts'
import { edgeTable } from '../src/edge/config/tables.ts'
import { buildEdgeSection, planTopology } from '../src/up/topology.ts'
import { breakdown } from './callgrind-breakdown.ts'
import { argOpt, freePort, have } from './edge-measure.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => argOpt(args, name, dflt)
const PAGE = '/products/wireless-headphones/'

if (opt('role', 'main') === 'upstream') await upstream(Number(opt('port', '0')), opt('otlp', ''), Number(opt('spans', '10')))
else await main()

/** The product page's HTML: ~20 KB once gzip'd (markup with enough variety not to compress away). */
function pageBody(): Buffer {
  const parts: string[] = ['<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Wireless headphones · Shop</title><link rel="stylesheet" href="/static/shop.css"></head><body><header><nav><a href="/">Shop</a> <a href="/cart/">Cart (2)</a> <span>john</span></nav></header><main>']
  let seed = 7
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const word = () => Math.floor(rnd() * 1e9).toString(36)
  for (let i = 0; parts.join('').length < 60_000 || gzipSync(parts.join('')).length < 20_000; i++) {
    parts.push(`<article class="review" id="r${i}"><h3>${word()} ${word()}</h3><p class="stars">${1 + (i % 5)} / 5</p><p>${Array.from({ length: 12 }, word).join(' ')}</p><a href="/products/${word()}/">${word()}</a></article>`)
  }
  parts.push('</main><footer>© Causeway shop</footer></body></html>')
  return gzipSync(parts.join(''))
}

/**
 * The app server's worker in miniature: the product page with the shop's headers, and the
 * journey's spans (the worker's request span and `spans - 1` children) exported to the edge.
 */
async function upstream(port: number, otlp: string, spans: number): Promise<void> {
  const { initJourney, traceHttpRequest, span } = await import('../src/journey/index.ts')
  // Full batches, as a worker sends them under load (~750 spans a second each at the shop's rate,
  // so the 512-span batch fills before the 1 s interval): under valgrind the edge runs ~50 times
  // slower, and a 1 s interval would post a few spans at a time, each post's fixed cost (and code
  // that never leaves the baseline tier) spread over a few spans instead of hundreds.
  initJourney({ otlpEndpoint: otlp, collector: false, exportBatch: 512, exportInterval: 600_000 }, { service: 'causeway-worker' }, {})
  const body = pageBody()
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-encoding': 'gzip',
    vary: 'Accept-Encoding, Cookie',
    'cache-control': 'private',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'content-length': body.length,
  }
  const statements = ['SELECT "sessions"."key", "sessions"."data", "sessions"."expires" FROM "sessions" WHERE "sessions"."key" = $1 LIMIT 1',
    'SELECT "users"."id", "users"."username", "users"."email", "users"."is_staff" FROM "users" WHERE "users"."id" = $1 LIMIT 1',
    'SELECT "products"."id", "products"."slug", "products"."name", "products"."price", "products"."stock" FROM "products" WHERE "products"."slug" = $1 LIMIT 1',
    'SELECT "reviews"."id", "reviews"."stars", "reviews"."text", "reviews"."author_id" FROM "reviews" WHERE "reviews"."product_id" = $1 ORDER BY "reviews"."id" DESC LIMIT 20',
    'SELECT COUNT(*) FROM "cart_items" WHERE "cart_items"."user_id" = $1']
  const server = http.createServer((req, res) => {
    void traceHttpRequest(req, res, () => {
      for (let i = 1; i < spans; i++) {
        const db = i % 2 === 1
        span(db ? 'db.query' : `middleware ${i}`, db ? { 'db.system': 'postgresql', 'db.query.text': statements[i % statements.length]!, 'db.operation.name': 'SELECT' } : { 'code.function': `mw${i}` }, () => {})
      }
      res.writeHead(200, headers)
      res.end(body)
    })
  })
  server.keepAliveTimeout = 65_000
  server.listen(port, '127.0.0.1', () => console.log(`up ${body.length}`))
}

async function main(): Promise<void> {
  const fw = opt('firewall', 'redis') as 'off' | 'memory' | 'redis'
  const n = Number(opt('requests', '2000'))
  const warmup = Number(opt('warmup', '10000'))
  const connections = Number(opt('connections', '64'))
  const repeat = Number(opt('repeat', '3'))
  const settleMax = Number(opt('settle', '10'))
  const spans = opt('spans', '10')
  const valgrind = !args.includes('--no-valgrind')
  const keep = opt('keep', '')
  const nodeFlags = opt('node-flags', '').split(' ').filter(Boolean)
  if (valgrind && have('valgrind') === null) throw new Error('valgrind is not installed')

  const dir = mkdtempSync(join(tmpdir(), 'cw-page-instr-'))
  const children: ChildProcess[] = []
  process.once('exit', () => { for (const c of children) c.kill('SIGKILL') })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(1))

  let redisUrl = ''
  if (fw === 'redis') {
    const port = await freePort()
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
    children.push(redis)
    await new Promise<void>((resolve) => {
      let out = ''
      redis.stdout!.on('data', (b: Buffer) => { out += b; if (out.includes('Ready to accept')) resolve() })
    })
    redisUrl = `redis://127.0.0.1:${port}`
  }
  const edgePort = await freePort()
  const upPort = await freePort()
  const up = spawn(process.execPath, [fileURLToPath(new URL('../bin/run-ts.js', import.meta.url)), fileURLToPath(import.meta.url),
    '--role', 'upstream', '--port', String(upPort), '--otlp', `http://127.0.0.1:${edgePort}/_causeway/otlp`, '--spans', spans], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(up)
  const bodyBytes = await new Promise<string>((r) => up.stdout!.once('data', (b: Buffer) => r(String(b).trim().split(' ')[1]!)))

  // `up`'s config for its one edge process (single topology), the access log to a file.
  const [plan] = planTopology({ topology: 'single', public: [{ host: '127.0.0.1', port: edgePort }], innerPorts: [0, 0], appBind: `127.0.0.1:${upPort}`, whoamiPath: '' })
  const accessLog = join(dir, 'access.log')
  const config = {
    // Timeouts long enough for valgrind's pace: the idle sockets wait while a window's counters are
    // dumped and read (the per-request cost of node's timers does not depend on their length).
    edge: { ...buildEdgeSection(plan!, { accessLog: { path: accessLog }, limits: { headersTimeout: '10m', keepAliveTimeout: '10m' } }), workers: 1 },
    journey: { sampleRatio: 0.05, samplePerSecond: 0 },
    ...(fw === 'off' ? {} : { firewall: fw === 'redis' ? { store: 'redis', redisUrl, redisPrefix: `causeway:pageinstr:${process.pid}:` } : { store: 'memory' } }),
  }
  const file = join(dir, 'edge.json')
  writeFileSync(file, JSON.stringify(config))
  copyFileSync(DEFAULT_BOT_RULES_FILE, join(dir, 'bot-rules.txt'))

  // The traced edge is bundled once (plain JS: no TypeScript compiling under valgrind).
  const bundle = join(dir, 'edge.mjs')
  const esbuild = fileURLToPath(new URL('../node_modules/.bin/esbuild', import.meta.url))
  execFileSync(esbuild, [fileURLToPath(new URL('./firewall-instructions-edge.ts', import.meta.url)), '--bundle', '--platform=node', '--format=esm',
    `--outfile=${bundle}`, '--log-level=warning', "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"])
  const out = join(keep || dir, 'edge-page.cg')
  const node = [process.execPath, '--predictable', ...edgeTable.nodeArgs.default, ...nodeFlags, bundle, file, dir]
  const cmd = valgrind ? ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`, ...node] : node
  const edge = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production', OTEL_EXPORTER_OTLP_ENDPOINT: '' } })
  children.push(edge)
  let log = ''
  edge.stderr!.on('data', (b) => { log += b })
  await new Promise<void>((resolve, reject) => {
    let o = ''
    edge.stdout!.on('data', (b) => { o += b; if (/port \d+/.test(o)) resolve() })
    edge.once('exit', (c) => reject(new Error(`edge exited (${c}): ${log.slice(-2000)}`)))
  })

  const request = Buffer.from(`GET ${PAGE} HTTP/1.1\r\nHost: 127.0.0.1:${edgePort}\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Encoding: gzip\r\n` +
    'Cookie: sessionid=q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3; csrftoken=Zx9Cv8Bn7Ml6Kj5Hg4Fd3Sa2Qw1Er0TyUi9Op8As7Df6Gh5Jk4\r\n\r\n')
  // The client's keep-alive sockets are opened once and kept, as wrk keeps its connections: the
  // windows count pages, not connection setups.
  interface Client { socket: Socket; need: number; onDone: () => void }
  const clients: Client[] = []
  let fail: (e: Error) => void = (e) => { throw e }
  for (let c = 0; c < connections; c++) {
    const socket: Socket = connect(edgePort, '127.0.0.1')
    socket.setNoDelay(true)
    const client: Client = { socket, need: -1, onDone: () => {} }
    socket.on('data', (d: Buffer) => {
      if (client.need < 0) {
        const text = d.toString('latin1')
        if (!text.startsWith('HTTP/1.1 200')) return fail(new Error(`unexpected response: ${text.slice(0, 300)}`))
        const len = /\r\ncontent-length: (\d+)/i.exec(text)
        const head = text.indexOf('\r\n\r\n')
        if (!len || head === -1) return fail(new Error(`no content-length/head in the first chunk: ${text.slice(0, 300)}`))
        client.need = Number(len[1]) - (d.length - head - 4)
      } else client.need -= d.length
      if (client.need <= 0) { client.need = -1; client.onDone() }
    })
    socket.on('error', (e) => fail(e))
    clients.push(client)
  }
  /** `count` pages over the sockets, one in flight on each; all must be 200. */
  const drive = (count: number) => new Promise<void>((resolve, reject) => {
    fail = reject
    let sent = 0
    let answered = 0
    for (const client of clients) {
      const next = () => {
        if (sent < count) { sent++; client.socket.write(request) }
      }
      client.onDone = () => {
        if (++answered === count) resolve()
        next()
      }
      next()
    }
  })

  await drive(warmup)
  interface Window { total: number; compiler: number; gc: number }
  const windows: Window[] = []
  const settling: number[] = []
  for (let w = 1; windows.length < repeat; w++) {
    if (valgrind) execFileSync('callgrind_control', ['-z', String(edge.pid)])
    await drive(n)
    if (!valgrind) { windows.push({ total: 0, compiler: 0, gc: 0 }); continue }
    execFileSync('callgrind_control', ['-d', String(edge.pid)])
    const c = breakdown(`${out}.${w}`)
    const x: Window = { total: c.total / n, compiler: c.compiler / n, gc: c.gc / n }
    const settled = windows.length > 0 || c.compiler < 0.005 * c.total || settling.length >= settleMax
    if (settled) windows.push(x)
    else settling.push(x.total)
    console.error(`window ${w}${settled ? '' : ' (settling)'}: ${Math.round(x.total)} instructions per page (compiler ${Math.round(x.compiler)}, GC ${Math.round(x.gc)})`)
  }
  // The workers' spans must have reached the edge's collector (else their decoding is not counted).
  const stats = await new Promise<Record<string, unknown>>((resolve, reject) => {
    http.get(`http://127.0.0.1:${edgePort}/_causeway/journey/api/traces?limit=1`, (r) => {
      let t = ''
      r.on('data', (b) => { t += b })
      r.on('end', () => { try { resolve((JSON.parse(t) as { stats: Record<string, unknown> }).stats) } catch (e) { reject(new Error(`dashboard: ${r.statusCode} ${t.slice(0, 200)}`)) } })
    }).on('error', reject)
  })
  console.error(`collector: ${JSON.stringify(stats)}`)
  if (/Redis unreachable/.test(log)) throw new Error(`Redis was taken for down during the run: ${log.slice(-1000)}`)
  for (const c of clients) c.socket.destroy()
  const exited = new Promise((r) => edge.once('exit', r))
  edge.stdin!.end()
  await exited
  const logged = statSync(accessLog).size
  for (const c of children) c.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
  if (logged === 0) throw new Error('the access log stayed empty')
  if (!valgrind) { console.log(`ran without valgrind (${bodyBytes}-byte page, access log ${logged} bytes): no instruction counts`); return }
  const mean = (k: keyof Window) => windows.reduce((a, x) => a + x[k], 0) / windows.length
  console.log(`edge instructions per page (callgrind; firewall ${fw}; ${bodyBytes}-byte gzip page; ${connections} connections; windows of ${n} after ${warmup} warm-up; ` +
    `the MEAN of ${repeat} windows once the JIT settled, without TurboFan's own instructions)`)
  console.table({
    page: {
      'instructions/page': Math.round(mean('total') - mean('compiler')),
      'with compiler': Math.round(mean('total')),
      windows: windows.map((x) => Math.round(x.total - x.compiler)).join(' / '),
      'compiler, GC': `${Math.round(mean('compiler'))}, ${Math.round(mean('gc'))}`,
      settling: settling.map((x) => Math.round(x)).join(' / '),
    },
  })
}
