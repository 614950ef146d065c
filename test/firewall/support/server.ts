// A tiny edge for the multi-process tests: a node:http server that identifies the client, asks the
// firewall per request and answers 200, or the decision's status with Retry-After. Config comes as
// JSON in FW_CONFIG; it prints {"port": N} when ready. Logs go to stderr as JSON lines.
//   /__stats  counts and the first/last decision times (store clock)     /__ban?address=&ms=   /__bans
import { createServer } from 'node:http'
import { compileConfig, createFirewall, defaultLog, RedisStore, type HitInput, type HitResult } from '../../../src/firewall/index.ts'

let first = Infinity
let last = 0
const counts: Record<string, number> = {}

// Records when the store decided, on the store's own clock (Redis TIME): the flood's duration is
// then exactly the one the limiter saw, however late this process gets to run its callbacks.
const record = (res: HitResult) => {
  const at = res.at ?? Date.now()
  if (at < first) first = at
  if (at > last) last = at
  return res
}
// Both ways of asking: the firewall's own path uses hitWith().
class TimedRedisStore extends RedisStore {
  override hit(input: HitInput): HitResult | Promise<HitResult> {
    const r = super.hit(input)
    return r instanceof Promise ? r.then(record) : record(r)
  }

  override hitWith(input: HitInput, done: (r: HitResult) => void): HitResult | undefined {
    const r = super.hitWith(input, (res) => done(record(res)))
    return r === undefined ? undefined : record(r)
  }
}

const config = JSON.parse(process.env.FW_CONFIG ?? '{}')
const cfg = compileConfig(config, {})
const store = cfg.settings.store === 'redis'
  ? new TimedRedisStore({ url: cfg.settings.redisUrl, prefix: cfg.settings.redisPrefix, policy: cfg.policy, failMode: cfg.settings.failMode as 'open', log: defaultLog })
  : undefined
const fw = createFirewall(config, { env: {}, store })
if (store) await store.ready(10_000)

const server = createServer(async (req, res) => {
  const url = req.url ?? '/'
  if (url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ first, last, counts, stats: fw.stats() }))
    return
  }
  if (url.startsWith('/__ban')) {
    const q = new URL(url, 'http://x').searchParams
    if (url.startsWith('/__bans')) return void res.end(JSON.stringify(await fw.bans()))
    return void res.end(JSON.stringify({ group: await fw.ban(q.get('address')!, Number(q.get('ms'))) }))
  }
  const who = fw.identifier.identify(req.socket.remoteAddress!, req.headers['x-forwarded-for'])
  const path = url.split('?', 1)[0]!
  const fwReq = { clientAddress: who.address, method: req.method!, path, headers: req.headers, httpVersion: req.httpVersion }
  const d = await fw.decide(fwReq)
  let status = 200
  const headers: Record<string, string> = {}
  if (d.action === 'reject' || d.action === 'tarpit') {
    status = d.status
    if (d.action === 'reject' && d.retryAfterSeconds) headers['retry-after'] = String(d.retryAfterSeconds)
    headers['x-rule'] = d.rule
  } else if (d.action === 'delay') {
    await new Promise((r) => setTimeout(r, d.delayMs))
  }
  counts[status] = (counts[status] ?? 0) + 1
  res.writeHead(status, headers).end(status === 200 ? 'ok' : 'no')
  fw.observe(fwReq, status, {})
})
server.keepAliveTimeout = 30_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`)
})
process.on('SIGTERM', async () => {
  server.close()
  server.closeAllConnections()
  await fw.close()
  process.exit(0)
})
