// Static-file benchmark: requests/s and server CPU per request for a 100 KiB file served by the
// Causeway edge, side by side with nginx (when installed) serving the same file with sendfile and
// open_file_cache, and with bare node:http sending the same bytes from memory (Node's ceiling), in
// one process and in as many processes as nginx has workers. Load comes from wrk. Usage:
//   node bin/run-ts.js bench/edge-static.ts [--duration 5] [--rounds 3] [--connections 64] [--threads 2]
//     [--workers N] [--gzip] [--journey] [--only causeway,nginx]
// --workers: edge processes (default: the edge's own default, `auto` = one per core, the same
// number nginx's `worker_processes auto` starts). The journey is off unless --journey.
// The target from issue 6: the edge at ≥ 50% of nginx's requests/s.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { allListening, argOpt, freePort, have, stop, summarize, waitUp, wrk, type Row } from './edge-measure.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string) => argOpt(args, name, dflt)
const duration = Number(opt('duration', '5'))
const connections = Number(opt('connections', '64'))
const threads = Number(opt('threads', '2'))
const rounds = Number(opt('rounds', '3'))
const cores = availableParallelism()
const workers = opt('workers', 'auto')
const edgeProcs = workers === 'auto' ? cores : Number(workers)
const gzip = args.includes('--gzip')
const only = opt('only', '').split(',').filter(Boolean)
const want = (name: string) => only.length === 0 || only.includes(name)

if (!have('wrk')) {
  console.error('bench/edge-static: wrk is not installed')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'cw-bench-static-'))
const body = Buffer.alloc(100 * 1024)
for (let i = 0; i < body.length; i++) body[i] = 97 + ((i * 7) % 26)
writeFileSync(join(dir, 'app.css'), body, { mode: 0o644 })
// nginx's workers run as an unprivileged user (nobody/www-data) when started by root: they must be
// able to read the file, or every answer is a 403 (which earlier versions of this bench measured).
chmodSync(dir, 0o755)

// All targets run at once and are loaded in alternating rounds; each keeps its best round.
const targets: { name: string; url: string; child: ChildProcess }[] = []
const started: ChildProcess[] = []
const bin = fileURLToPath(new URL('../bin/causeway.js', import.meta.url))

try {
  if (want('causeway')) {
    const port = await freePort()
    writeFileSync(join(dir, 'causeway.config.mjs'), `export default { edge: { ${workers === 'auto' ? '' : `workers: ${workers}, `}listen: [{ port: ${port} }], accessLog: { format: 'off' },
  routes: [{ match: { pathPrefix: '/static/' }, action: { static: { alias: ${JSON.stringify(dir)} } } }] },
  journey: { enabled: ${args.includes('--journey')} } }\n`)
    const edge = spawn(process.execPath, [bin, 'edge', '--config', join(dir, 'causeway.config.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
    started.push(edge)
    await allListening(edge, edgeProcs)
    await waitUp(`http://127.0.0.1:${port}/static/app.css`)
    targets.push({ name: 'causeway', url: `http://127.0.0.1:${port}/static/app.css`, child: edge })
  }

  for (const n of [1, cores]) {
    const name = n === 1 ? 'node:http' : `node:http x${n}`
    if (!want(n === 1 ? 'node' : 'nodeN')) continue
    const port = await freePort()
    const src = `const c=require('cluster');if(${n}>1&&c.isPrimary){for(let i=0;i<${n};i++)c.fork();process.on('SIGTERM',()=>{for(const w of Object.values(c.workers))w.kill();process.exit(0)})}else{
const b=require('fs').readFileSync(${JSON.stringify(join(dir, 'app.css'))});require('http').createServer((q,r)=>{r.setHeader('content-type','text/css');r.setHeader('content-length',b.length);r.end(b)}).listen(${port},'127.0.0.1')}`
    writeFileSync(join(dir, `bare${n}.cjs`), src)
    const bare = spawn(process.execPath, [join(dir, `bare${n}.cjs`)], { stdio: ['ignore', 'ignore', 'inherit'] })
    started.push(bare)
    await waitUp(`http://127.0.0.1:${port}/`)
    targets.push({ name, url: `http://127.0.0.1:${port}/static/app.css`, child: bare })
  }

  const nginx = have('nginx') ?? (have('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null)
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'cw-bench-nginx-'))
  if (nginx && want('nginx')) {
    const port = await freePort()
    const conf = join(nginxPrefix, 'nginx.conf')
    // As the anchors' nginx: worker_processes auto, sendfile, keepalive_requests 100000.
    writeFileSync(conf, `worker_processes auto; daemon off; pid ${nginxPrefix}/nginx.pid; error_log ${nginxPrefix}/error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 100000; open_file_cache max=1000 inactive=20s;
  client_body_temp_path ${nginxPrefix}/cb; proxy_temp_path ${nginxPrefix}/px; fastcgi_temp_path ${nginxPrefix}/fc; uwsgi_temp_path ${nginxPrefix}/uw; scgi_temp_path ${nginxPrefix}/sc;
  gzip ${gzip ? 'on' : 'off'}; gzip_types text/css;
  types { text/css css; }
  server { listen 127.0.0.1:${port}; location /static/ { alias ${dir}/; } } }`)
    const ng = spawn(nginx, ['-c', conf, '-p', nginxPrefix], { stdio: 'ignore' })
    started.push(ng)
    await waitUp(`http://127.0.0.1:${port}/static/app.css`)
    targets.push({ name: 'nginx', url: `http://127.0.0.1:${port}/static/app.css`, child: ng })
  }

  const rows: Row[] = targets.map((t) => ({ name: t.name, rps: [], cpu: [], non2xx: 0, errors: 0 }))
  for (let r = 0; r < rounds; r++) {
    targets.forEach((t, i) => {
      const w = wrk(t.url, t.child.pid!, { duration, connections, threads, headers: gzip ? ['Accept-Encoding: gzip'] : [] })
      rows[i]!.rps.push(w.rps)
      rows[i]!.cpu.push(w.cpuUsPerReq)
      rows[i]!.non2xx += w.non2xx
      rows[i]!.errors += w.errors
      if (w.non2xx + w.errors > 0 && args.includes("--verbose")) console.error(t.name, w.raw)
    })
  }
  const res = summarize(rows)
  for (const r of res) if (r.bad > 0) console.log(`  WARNING: ${r.name} answered ${r.bad} requests with an error status or socket error: its numbers are not comparable`)
  console.log(`static 100 KiB file, ${connections} connections, ${rounds} alternating rounds of ${duration}s (best req/s and lowest CPU of the rounds), ${edgeProcs} edge process(es), nginx worker_processes auto (${cores} cores)${gzip ? ', Accept-Encoding: gzip' : ''}`)
  console.log(`  ${'server'.padEnd(14)} ${'req/s'.padStart(8)}  ${'CPU µs/req'.padStart(10)}  errors  rounds (req/s/CPU)`)
  for (const r of res) console.log(`  ${r.name.padEnd(14)} ${r.rps.toFixed(0).padStart(8)}  ${r.cpu.toFixed(1).padStart(10)}  ${String(r.bad).padStart(6)}  ${r.rounds}`)
  const by = Object.fromEntries(res.map((r) => [r.name, r]))
  const cw = by.causeway
  if (cw) {
    for (const ref of ['node:http', `node:http x${cores}`, 'nginx']) {
      const o = by[ref]
      if (o) console.log(`  causeway/${ref}: requests/s ${((cw.rps / o.rps) * 100).toFixed(0)}%, CPU per request ×${(cw.cpu / o.cpu).toFixed(2)}${ref === 'nginx' ? ' (target: requests/s ≥ 50%)' : ''}`)
    }
  }
  if (!nginx) console.log('  nginx is not installed here: no comparison (see /work/shared/anchors for the reference run)')
  rmSync(nginxPrefix, { recursive: true, force: true })
} finally {
  await Promise.all(started.map(stop))
  rmSync(dir, { recursive: true, force: true })
}
