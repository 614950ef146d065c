// The edge exactly as `causeway up` configures it (the single topology's plan: firewall stage,
// journey host, access log, static route, proxy pool → app), in one process with a stand-in app
// (node:http answering like the shop's product page: 930 gzip bytes and its headers) and a raw
// keep-alive client. Made for instruction counts: run it under callgrind twice with different
// request counts and subtract, so the start-up cancels out; without valgrind it prints CPU µs per
// request of the whole process (edge + stand-in app + client).
//   node --import tsx bench/edge-up.ts [requests=2000] [warmup=500] [connections=8]
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out node --predictable --import tsx bench/edge-up.ts 1000 300
// Variants through the environment: FIREWALL=0, JOURNEY=0, LOG=off|file|stdout (default: file, to
// /dev/null, as `up` writes to its stdout), APP=unix (the app behind a unix socket), EDGE=0 (the
// client talks to the stand-in app directly: the baseline to subtract), COMPRESS=0 (no on-the-fly
// compression filter), PER_SECOND=n (journey.samplePerSecond; default 0 here, so 5% of requests are
// sampled whatever the speed, valgrind's included).
import http from 'node:http'
import net from 'node:net'
import { gzipSync } from 'node:zlib'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEdge } from '../src/edge/index.ts'
import { buildEdgeSection, planTopology } from '../src/up/topology.ts'

const [requests = 2000, warmup = 500, connections = 8] = process.argv.slice(2).map(Number)
const env = process.env
const dir = mkdtempSync(join(tmpdir(), 'edge-up-'))

const body = gzipSync(Buffer.from('<!doctype html><title>Wireless headphones</title>' + 'x'.repeat(1800).replace(/x{10}/g, (_m) => `<p>${Math.random().toString(36).slice(2, 8)}</p>`)))
const appHeaders = {
  'content-type': 'text/html; charset=utf-8',
  etag: '"ueLQN1uWHXAea2DGYpQ4SEpjJfY"',
  'x-frame-options': 'DENY',
  vary: 'Cookie, Accept-Encoding',
  'content-encoding': 'gzip',
  'content-length': String(body.length),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
}
const app = http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
  res.writeHead(200, appHeaders)
  res.end(body)
})
const appBind = env.APP === 'unix' ? `unix:${join(dir, 'app.sock')}` : await new Promise<string>((r) => app.listen(0, '127.0.0.1', () => r(`127.0.0.1:${(app.address() as net.AddressInfo).port}`)))
if (env.APP === 'unix') await new Promise<void>((r) => app.listen(appBind.slice(5), r))

let port: number
let edge: ReturnType<typeof createEdge> | undefined
if (env.EDGE === '0') {
  port = Number(appBind.split(':')[1])
} else {
  const [plan] = planTopology({ topology: 'single', public: [{ host: '127.0.0.1', port: 0 }], innerPorts: [0, 0], appBind, static: { prefix: '/static/', root: dir }, whoamiPath: '/_causeway/whoami' })
  const log = env.LOG ?? 'file'
  const edgeSection = buildEdgeSection(plan!, log === 'off' ? { accessLog: { format: 'off' } } : log === 'stdout' ? { accessLog: { path: '-' } } : { accessLog: { path: '/dev/null' } })
  if (env.JOURNEY === '0') edgeSection.journey = false
  if (env.COMPRESS === '0') edgeSection.compression = { enabled: false }
  edge = createEdge({ edge: edgeSection, firewall: env.FIREWALL === '0' ? undefined : {}, journey: env.JOURNEY === '0' ? { enabled: false } : { samplePerSecond: Number(env.PER_SECOND ?? 0) } }, { root: dir, onError: (m, e) => console.error(m, e) })
  await edge.listen()
  port = edge.addresses[0]!.port
}

const request = Buffer.from(
  'GET /products/wireless-headphones/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n'
  + 'Cookie: sessionid=fcujzzld8l3qq2gf22gayaiicv6u483b; csrftoken=13Kbx8LMnRgqtXGENNc6xk4xXH6MUGkj\r\n\r\n',
)

/** Drives `n` requests over `connections` keep-alive sockets; resolves when all are answered. */
async function drive(n: number): Promise<void> {
  let left = n
  await Promise.all(Array.from({ length: Math.min(connections, n) }, () => new Promise<void>((done, fail) => {
    const s = net.connect(port, '127.0.0.1')
    let buf = ''
    let inFlight = false
    const next = () => {
      if (left <= 0) { s.end(); done(); return }
      left--
      inFlight = true
      s.write(request)
    }
    s.setEncoding('latin1')
    s.on('data', (d: string) => {
      buf += d
      for (;;) {
        const h = buf.indexOf('\r\n\r\n')
        if (h < 0) return
        const head = buf.slice(0, h)
        if (!head.startsWith('HTTP/1.1 200')) { fail(new Error(head)); return }
        const m = /content-length: (\d+)/i.exec(head)
        const len = m ? Number(m[1]) : -1
        if (len < 0) { fail(new Error(`no content-length: ${head}`)); return }
        if (buf.length < h + 4 + len) return
        buf = buf.slice(h + 4 + len)
        inFlight = false
        next()
      }
    })
    s.on('error', fail)
    s.on('connect', next)
    void inFlight
  })))
}

await drive(warmup)
// Under `valgrind --instr-atstart=no`: say so, then wait until the driver turned instrumentation on
// (callgrind_control -i on) and created the file named by CG_SYNC.
if (env.CG_SYNC) {
  console.log('warm')
  while (!existsSync(env.CG_SYNC)) await new Promise((r) => setTimeout(r, 50))
}
const t0 = process.cpuUsage()
const w0 = performance.now()
await drive(requests)
const cpu = process.cpuUsage(t0)
const wall = performance.now() - w0
console.log(`${requests} requests: ${((cpu.user + cpu.system) / requests).toFixed(1)} µs CPU/request (user ${(cpu.user / requests).toFixed(1)}), ${(requests / wall * 1000).toFixed(0)} req/s`)
await edge?.close()
app.close()
rmSync(dir, { recursive: true, force: true })
process.exit(0)
