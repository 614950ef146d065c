// Proxy benchmark: one upstream (bare node:http in one process, the anchors' node-raw shape), and
// in front of it, in alternating rounds under wrk: nginx (as the anchors configure it: upstream
// keepalive, proxy_http_version 1.1, Host/X-Forwarded-For/-Proto set), the Causeway edge
// (`causeway edge`, a proxy route), a Node proxy on `http-proxy` and one on Fastify with
// `@fastify/reply-from` — every proxy with as many processes as nginx's `worker_processes auto`.
// Each row: best requests/s of the rounds and the proxy's own CPU µs per request (its whole
// process tree; the upstream's CPU is not counted). Usage:
//   node bin/run-ts.js bench/edge-proxy.ts [--duration 5] [--rounds 3] [--connections 64] [--threads 2]
//     [--size 1024] [--workers N] [--journey] [--only causeway,nginx,http-proxy,reply-from,direct]
//     [--delay MS: the upstream answers each request MS ms late, so the proxies run at the rate of a
//      slow app (64 connections / delay) instead of flat out: their CPU per request at that rate]
// The target from issue 6: the edge at ≥ 60% of nginx's requests/s and ahead of the Node proxies.
import cluster from 'node:cluster'
import http from 'node:http'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { allListening, argOpt, freePort, have, stop, summarize, waitUp, wrk, type Row } from './edge-measure.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => argOpt(args, name, dflt)
const role = opt('role', 'main')
const cores = availableParallelism()
const workers = opt('workers', 'auto')
const procs = workers === 'auto' ? cores : Number(workers)

/** Runs `serve` in `procs` node:cluster workers (or in this process for 1). */
function clustered(serve: () => void | Promise<void>): void {
  if (procs > 1 && cluster.isPrimary) {
    for (let i = 0; i < procs; i++) cluster.fork()
    process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers ?? {})) w?.kill(); process.exit(0) })
    return
  }
  void serve()
}

function upstream(): void {
  const body = Buffer.alloc(Number(opt('size', '1024')), 'x')
  const delay = Number(opt('delay', '0'))
  const answer = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
    res.end(body)
  }
  const server = http.createServer((_req, res) => {
    if (delay > 0) setTimeout(answer, delay, res)
    else answer(res)
  })
  server.keepAliveTimeout = 65_000
  server.listen(Number(opt('port', '0')), '127.0.0.1')
}

function httpProxyServer(): void {
  clustered(async () => {
    const { default: httpProxyLib } = await import('http-proxy')
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
    const proxy = httpProxyLib.createProxyServer({ target: opt('target', ''), agent, xfwd: true })
    proxy.on('error', (_err, _req, res) => { (res as http.ServerResponse).writeHead?.(502); res.end() })
    const server = http.createServer((req, res) => {
      req.headers['x-request-id'] = randomUUID()
      proxy.web(req, res)
    })
    server.keepAliveTimeout = 65_000
    server.listen(Number(opt('port', '0')), '127.0.0.1', () => console.log('listening'))
  })
}

function replyFromServer(): void {
  clustered(async () => {
    const { default: Fastify } = await import('fastify')
    const { default: replyFrom } = await import('@fastify/reply-from')
    const app = Fastify({ logger: false, keepAliveTimeout: 65_000 })
    await app.register(replyFrom, { base: opt('target', ''), undici: { connections: 64, pipelining: 1 } })
    app.all('/*', (req, reply) => {
      reply.from(req.url, { rewriteRequestHeaders: (_r, h) => ({ ...h, 'x-forwarded-for': req.ip, 'x-forwarded-proto': 'http', 'x-request-id': randomUUID() }) })
    })
    await app.listen({ port: Number(opt('port', '0')), host: '127.0.0.1' })
    console.log('listening')
  })
}

async function main(): Promise<void> {
  const duration = Number(opt('duration', '5'))
  const connections = Number(opt('connections', '64'))
  const threads = Number(opt('threads', '2'))
  const rounds = Number(opt('rounds', '3'))
  const only = opt('only', '').split(',').filter(Boolean)
  const want = (name: string) => only.length === 0 || only.includes(name)
  if (!have('wrk')) {
    console.error('bench/edge-proxy: wrk is not installed')
    process.exit(1)
  }
  const self = fileURLToPath(import.meta.url)
  const started: ChildProcess[] = []
  const dir = mkdtempSync(join(tmpdir(), 'cw-bench-proxy-'))
  chmodSync(dir, 0o755)
  const targets: { name: string; url: string; child: ChildProcess }[] = []
  const startRole = async (name: string, which: string, extra: string[]) => {
    const port = await freePort()
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), self, '--role', which, '--port', String(port), '--workers', String(procs), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] })
    started.push(child)
    await allListening(child, procs)
    await waitUp(`http://127.0.0.1:${port}/bench`)
    targets.push({ name, url: `http://127.0.0.1:${port}/bench`, child })
  }
  try {
    const upPort = await freePort()
    const up = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), self, '--role', 'upstream', '--port', String(upPort), '--size', opt('size', '1024'), '--delay', opt('delay', '0')], { stdio: ['ignore', 'ignore', 'inherit'] })
    started.push(up)
    const target = `http://127.0.0.1:${upPort}`
    await waitUp(`${target}/`)
    if (want('direct')) targets.push({ name: 'direct (no proxy)', url: `${target}/bench`, child: up })

    if (want('nginx')) {
      const nginx = have('nginx') ?? (have('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null)
      if (nginx) {
        const port = await freePort()
        const conf = join(dir, 'nginx.conf')
        // The anchors' django-nginx proxy settings (targets/nginx.conf.template), pointed at our upstream.
        writeFileSync(conf, `daemon off; master_process on; worker_processes auto; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; server_tokens off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 65; keepalive_requests 100000;
  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/px; fastcgi_temp_path ${dir}/fc; uwsgi_temp_path ${dir}/uw; scgi_temp_path ${dir}/sc;
  upstream app { server 127.0.0.1:${upPort} fail_timeout=0; keepalive 64; }
  server { listen 127.0.0.1:${port} default_server;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; proxy_redirect off; } } }\n`)
        const ng = spawn(nginx, ['-c', conf, '-p', dir], { stdio: 'ignore' })
        started.push(ng)
        await waitUp(`http://127.0.0.1:${port}/bench`)
        targets.push({ name: 'nginx', url: `http://127.0.0.1:${port}/bench`, child: ng })
      } else console.log('nginx is not installed here: no nginx row')
    }

    if (want('causeway')) {
      const port = await freePort()
      const config = join(dir, 'causeway.config.mjs')
      writeFileSync(config, `export default { edge: { workers: ${procs}, listen: [{ port: ${port} }], accessLog: { format: 'off' },
  upstreams: { app: { targets: [${JSON.stringify(target)}], keepalive: { connections: 64 } } },
  routes: [{ match: { pathPrefix: '/' }, action: { proxy: { pool: 'app' } } }] },
  journey: { enabled: ${args.includes('--journey')} } }\n`)
      const bin = fileURLToPath(new URL('../bin/causeway.js', import.meta.url))
      const edge = spawn(process.execPath, [bin, 'edge', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] })
      started.push(edge)
      await allListening(edge, procs)
      await waitUp(`http://127.0.0.1:${port}/bench`)
      targets.push({ name: 'causeway', url: `http://127.0.0.1:${port}/bench`, child: edge })
    }
    if (want('http-proxy')) await startRole('http-proxy', 'http-proxy', ['--target', target])
    if (want('reply-from')) await startRole('reply-from', 'reply-from', ['--target', target])

    const rows: Row[] = targets.map((t) => ({ name: t.name, rps: [], cpu: [], non2xx: 0, errors: 0 }))
    for (let r = 0; r < rounds; r++) {
      targets.forEach((t, i) => {
        const w = wrk(t.url, t.child.pid!, { duration, connections, threads })
        rows[i]!.rps.push(w.rps)
        rows[i]!.cpu.push(w.cpuUsPerReq)
        rows[i]!.non2xx += w.non2xx
        rows[i]!.errors += w.errors
      })
    }
    const res = summarize(rows)
    console.log(`proxy, ${opt('size', '1024')}-byte responses from one bare node:http upstream, ${connections} connections, ${rounds} alternating rounds of ${duration}s (best req/s and lowest CPU of the rounds), ${procs} process(es) per proxy, nginx worker_processes auto (${cores} cores)${args.includes('--journey') ? ', journey on' : ''}${opt('delay', '0') !== '0' ? `, upstream ${opt('delay', '0')} ms late` : ''}`)
    console.log(`  ${'server'.padEnd(18)} ${'req/s'.padStart(8)}  ${'CPU µs/req'.padStart(10)}  errors  rounds (req/s/CPU)`)
    for (const r of res) console.log(`  ${r.name.padEnd(18)} ${r.rps.toFixed(0).padStart(8)}  ${r.cpu.toFixed(1).padStart(10)}  ${String(r.bad).padStart(6)}  ${r.rounds}`)
    for (const r of res) if (r.bad > 0) console.log(`  WARNING: ${r.name} had ${r.bad} error answers or socket errors`)
    const by = Object.fromEntries(res.map((r) => [r.name, r]))
    const cw = by.causeway
    if (cw) {
      for (const ref of ['nginx', 'http-proxy', 'reply-from']) {
        const o = by[ref]
        if (o) console.log(`  causeway/${ref}: requests/s ${((cw.rps / o.rps) * 100).toFixed(0)}%, CPU per request ×${(cw.cpu / o.cpu).toFixed(2)}${ref === 'nginx' ? ' (target: requests/s ≥ 60%)' : ' (target: > 100%)'}`)
      }
    }
  } finally {
    await Promise.all(started.map(stop))
    rmSync(dir, { recursive: true, force: true })
  }
}

const roles: Record<string, () => void | Promise<void>> = { main, upstream, 'http-proxy': httpProxyServer, 'reply-from': replyFromServer }
await roles[role]!()
