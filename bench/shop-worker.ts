// The shop's product page in one process, for counting what a worker spends per request: the
// app (examples/shop/app.ts, DATABASE_URL etc. from the environment as for `causeway serve`) on a
// node:http server, driven over keep-alive sockets by a client in the same process (CONNECTIONS,
// default 1: requests one after another; JOURNEY=1: the journey on, see below). Prints CPU µs/request (client included; noisy on a busy machine).
//   node --import tsx bench/shop-worker.ts WARMUP N [gzip|plain|anon]
// Deterministic instructions/request (docs/benchmarks.md, issue 8): with CG_WAIT=1 it waits for
// SIGUSR2 after the warm-up, so callgrind can count the measured part only:
//   CG_WAIT=1 valgrind --tool=callgrind --instr-atstart=no node --predictable --import tsx bench/shop-worker.ts 4000 1000 gzip &
//   (warm-up 4,000: Node 20 optimizes a function after ~3,000 calls; fewer leaves TurboFan in the window)
//   (after it prints READY) callgrind_control -i on $PID; kill -USR2 $PID
// CPUPROF=file.cpuprofile profiles the measured part. DUMP=file writes the first response body.
import http from 'node:http'
import net from 'node:net'
const ROOT = process.env.CAUSEWAY_ROOT ?? new URL('..', import.meta.url).pathname
const { default: app } = await import(`${ROOT}/examples/shop/app.ts`)
await app.ready?.()
// JOURNEY=1: the journey on as in a `causeway up` worker (spans of sampled requests exported to
// OTEL_EXPORTER_OTLP_ENDPOINT, default sampling; CAUSEWAY_JOURNEY_SAMPLE_PER_SECOND=0 under
// valgrind, whose slowness would otherwise fill the per-second reservoir with most requests).
let handler: http.RequestListener = (req, res) => app.handle(req, res)
if (process.env.JOURNEY === '1') {
  const { initWorkerJourney, traceWorkerRequest } = await import(`${ROOT}/src/server/journey.ts`)
  if (!initWorkerJourney({})) throw new Error('JOURNEY=1 needs OTEL_EXPORTER_OTLP_ENDPOINT')
  handler = (req, res) => { traceWorkerRequest(req, res, false, '127.0.0.1', () => app.handle(req, res)).catch(() => {}) }
}
const server = http.createServer(handler)
// Under valgrind the pause between the warm-up and the measured part (CG_WAIT) can outlast node's
// 5 s keep-alive timeout, which would close the client's idle socket; a long one keeps the same
// per-request timer work.
server.keepAliveTimeout = 10 * 60_000
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as net.AddressInfo).port
const base = `http://127.0.0.1:${port}`
const warm = Number(process.argv[2] ?? 200), n = Number(process.argv[3] ?? 1000), mode = process.argv[4] ?? 'gzip'
let cookie = ''
if (mode !== 'anon') {
  const jar: Record<string, string> = {}
  const eat = (r: Response) => { for (const c of r.headers.getSetCookie()) { const [k, ...v] = c.split(';')[0]!.split('='); jar[k!] = v.join('=') } }
  const page = await fetch(`${base}/accounts/login/`, {}); eat(page)
  const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(await page.text())![1]!
  const res = await fetch(`${base}/accounts/login/`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `csrftoken=${jar.csrftoken}`, origin: base },
    body: new URLSearchParams({ csrfmiddlewaretoken: token, username: 'john', password: process.env.CAUSEWAY_DEMO_PASSWORD!, next: '/' }) })
  eat(res)
  if (res.status !== 302) throw new Error('login failed ' + res.status)
  cookie = `Cookie: sessionid=${jar.sessionid}; csrftoken=${jar.csrftoken}\r\n`
}
const reqText = `GET /products/wireless-headphones/ HTTP/1.1\r\nHost: 127.0.0.1\r\n${cookie}${mode === 'gzip' ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`
// CONNECTIONS=n: n keep-alive sockets, one request in flight on each (default 1: one after
// another). With several, statements of different requests can share a round trip to the database.
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 1)
let first = ''
async function connection(): Promise<() => Promise<void>> {
  const sock = net.connect(port, '127.0.0.1')
  sock.setNoDelay(true)
  await new Promise((r) => sock.once('connect', r))
  let buf = Buffer.alloc(0)
  let resolveOne: (() => void) | null = null
  sock.on('data', async (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d
    for (;;) {
      const he = buf.indexOf('\r\n\r\n')
      if (he < 0) return
      const head = buf.subarray(0, he).toString('latin1')
      const m = /content-length: (\d+)/i.exec(head)
      if (!m) throw new Error('no content-length: ' + head)
      const total = he + 4 + Number(m[1])
      if (buf.length < total) return
      if (!first) { first = head; if (process.env.DUMP) (await import('node:fs')).writeFileSync(process.env.DUMP, buf.subarray(he + 4, total)) }
      buf = buf.subarray(total)
      const r = resolveOne; resolveOne = null; r!()
    }
  })
  const one = () => new Promise<void>((r) => { resolveOne = r; sock.write(reqText) })
  return one
}
const conns = await Promise.all(Array.from({ length: CONNECTIONS }, connection))
/** `count` requests over the connections, each connection sending its next when answered. */
async function drive(count: number): Promise<void> {
  let sent = 0
  await Promise.all(conns.map(async (one) => { while (sent < count) { sent++; await one() } }))
}
await drive(warm)
if (process.env.CG_WAIT) { console.error('READY'); await new Promise((r) => process.once('SIGUSR2', r)) }
let prof: any
if (process.env.CPUPROF) {
  const { Session } = await import('node:inspector')
  prof = new Session(); prof.connect()
  const post = (m: string, a?: object) => new Promise<any>((r, j) => prof.post(m, a ?? {}, (e: any, v: any) => e ? j(e) : r(v)))
  await post('Profiler.enable'); await post('Profiler.setSamplingInterval', { interval: 50 }); await post('Profiler.start')
  prof.stopTo = async (f: string) => { const { profile } = await post('Profiler.stop'); (await import('node:fs')).writeFileSync(f, JSON.stringify(profile)) }
}
const t0 = process.cpuUsage()
await drive(n)
const t = process.cpuUsage(t0)
if (prof) await prof.stopTo(process.env.CPUPROF!)
console.error(first.split('\r\n').filter((l) => /^HTTP|content-|vary|set-cookie/i.test(l)).join(' | '))
console.error(`${mode}: ${n} requests, ${((t.user + t.system) / n).toFixed(0)} µs CPU/request (process incl. client)`)
if (process.env.CG_WAIT) process.exit(0)
server.closeAllConnections(); server.close(); await app.close?.(); process.exit(0)
