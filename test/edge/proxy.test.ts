// The proxy action over real sockets: headers, hop-by-hop, unix sockets, retries, 502/503/504.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createUpstreamPools, type UpstreamPools } from '../../src/edge/upstream/index.ts'
import { createProxyAction } from '../../src/edge/proxy/index.ts'
import { startEdge, startUpstream, request, type Running } from './support/harness.ts'

const cleanup: Array<() => Promise<void> | void> = []
after(async () => { for (const fn of cleanup.reverse()) await fn() })

function pools(config: Record<string, unknown>): UpstreamPools {
  const p = createUpstreamPools(config, { startHealthChecks: false, env: {} })
  cleanup.push(() => p.close(false))
  return p
}
async function edge(...args: Parameters<typeof createProxyAction>): Promise<Running> {
  const e = await startEdge(createProxyAction(...args))
  cleanup.push(() => e.close())
  return e
}
async function upstream(handler: http.RequestListener) {
  const u = await startUpstream(handler)
  cleanup.push(() => u.close())
  return u
}
/** A port nothing listens on. */
async function deadAddress(): Promise<string> {
  const u = await startUpstream(() => {})
  await u.kill()
  return u.address
}

test('forwards the request with X-Forwarded-*, X-Real-IP, X-Request-Id and traceparent', async () => {
  let seen: http.IncomingHttpHeaders = {}
  let seenUrl = ''
  const up = await upstream((req, res) => { seen = req.headers; seenUrl = req.url!; res.end('hello') })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  const r = await request(`${e.url}/a/b?x=1&y=2`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-test-request-id': 'req-42', traceparent: tp, host: 'shop.example:8080' } })
  assert.equal(r.status, 200)
  assert.equal(r.body, 'hello')
  assert.equal(seenUrl, '/a/b?x=1&y=2')
  assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
  assert.equal(seen['x-forwarded-proto'], 'http')
  assert.equal(seen['x-forwarded-host'], 'shop.example:8080')
  assert.equal(seen.host, 'shop.example:8080')
  assert.equal(seen['x-real-ip'], '127.0.0.1')
  assert.equal(seen['x-request-id'], 'req-42')
  assert.equal(seen.traceparent, tp)
  assert.equal(e.last!.notes.upstream, up.address)
})

test('preserveHost: false sends the upstream host; requestHeaders and notes.traceparent override', async () => {
  let seen: http.IncomingHttpHeaders = {}
  const up = await upstream((req, res) => { seen = req.headers; res.end() })
  const p = pools({ app: { targets: [up.address] } })
  const tp = '00-11111111111111111111111111111111-2222222222222222-01'
  const action = createProxyAction(p.get('app')!, { preserveHost: false, requestHeaders: (_ctx, h) => { h['x-extra'] = 'yes' } })
  const e = await startEdge({ kind: 'proxy', handle: (ctx) => { ctx.notes.traceparent = tp; return action.handle(ctx) } })
  cleanup.push(() => e.close())
  await request(`${e.url}/`, { headers: { host: 'public.example', traceparent: '00-aaaa-bbbb-01' } })
  assert.equal(seen.host, `127.0.0.1:${up.port}`)
  assert.equal(seen['x-forwarded-host'], 'public.example')
  assert.equal(seen['x-extra'], 'yes')
  assert.equal(seen.traceparent, tp)
})

test('hop-by-hop headers are stripped both ways, including those Connection names', async () => {
  let seen: http.IncomingHttpHeaders = {}
  const up = await upstream((req, res) => {
    seen = req.headers
    res.setHeader('connection', 'x-secret-hop')
    res.setHeader('x-secret-hop', '1')
    res.setHeader('keep-alive', 'timeout=77')
    res.setHeader('proxy-authenticate', 'Basic')
    res.setHeader('x-kept', 'ok')
    res.end('body')
  })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  const r = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${e.url}/`, { agent: false, headers: { connection: 'keep-alive, x-client-hop', 'x-client-hop': 'secret', 'keep-alive': '300', te: 'trailers', 'proxy-authorization': 'Basic eA==', 'x-normal': 'n' } }, resolve)
    req.on('error', reject)
    req.end()
  })
  r.resume()
  for (const h of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization']) assert.equal(seen[h], undefined, `request ${h} leaked`)
  assert.equal(seen['x-normal'], 'n')
  assert.equal(r.headers['x-secret-hop'], undefined)
  assert.equal(r.headers['proxy-authenticate'], undefined)
  assert.notEqual(r.headers['keep-alive'], 'timeout=77')
  assert.equal(r.headers['x-kept'], 'ok')
})

test('a unix socket upstream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-proxy-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'app.sock')
  const server = http.createServer((req, res) => res.end(`unix ${req.method} ${req.url}`))
  await new Promise<void>((r) => server.listen(path, r))
  cleanup.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))
  const p = pools({ app: { targets: [`unix:${path}`] } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/u?q`)
  assert.equal(r.body, 'unix GET /u?q')
})

test('POST bodies reach the upstream and responses come back', async () => {
  const up = await upstream((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => res.end(`got ${Buffer.concat(chunks).length} ${req.headers['content-type']}`))
  })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/submit`, { method: 'POST', body: 'x'.repeat(100_000), headers: { 'content-type': 'text/plain' } })
  assert.equal(r.body, 'got 100000 text/plain')
})

test('503 with a clear page when no upstream is available', async () => {
  const up = await upstream((_req, res) => res.end('up'))
  const p = pools({ app: { targets: [up.address] } })
  p.get('app')!.members()[0]!.setActiveHealthy(false)
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/`, { headers: { 'x-test-request-id': 'rid-503' } })
  assert.equal(r.status, 503)
  assert.match(r.headers['content-type']!, /text\/html/)
  assert.match(r.body, /503 Service Unavailable/)
  assert.match(r.body, /rid-503/)
  assert.equal(r.headers['retry-after'], '5')
})

test('502 when the only upstream refuses connections; it is marked down', async () => {
  const p = pools({ app: { targets: [await deadAddress()], maxFails: 1, failTimeout: '30s' } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/`)
  assert.equal(r.status, 502)
  assert.match(r.body, /502 Bad Gateway/)
  assert.doesNotMatch(r.body, /ECONNREFUSED|127\.0\.0\.1/, 'no upstream detail leaks')
  assert.match(String(e.last!.notes.proxyError), /ECONNREFUSED/)
  assert.equal(p.get('app')!.members()[0]!.available(), false)
  assert.equal((await request(`${e.url}/`)).status, 503, 'down now: nothing to try')
})

test('a refused connection is retried on another upstream for idempotent methods; a POST gets 502', async () => {
  const up = await upstream((req, res) => res.end(`ok ${req.method}`))
  const dead = await deadAddress()
  const p = pools({ app: { targets: [dead, up.address], maxFails: 3, failTimeout: '30s', policy: 'round-robin' } })
  const e = await edge(p.get('app')!)
  for (let i = 0; i < 6; i++) {
    const r = await request(`${e.url}/`)
    assert.equal(r.status, 200)
    assert.equal(r.body, 'ok GET')
  }
  // With the dead target still in rotation, a POST that lands on it is answered 502, not replayed.
  const p2 = pools({ app: { targets: [dead], maxFails: 0 } })
  const e2 = await edge(p2.get('app')!)
  const post = await request(`${e2.url}/`, { method: 'POST', body: 'data' })
  assert.equal(post.status, 502)
  assert.equal(p.get('app')!.members()[0]!.available(), false, 'the refused connections mark the dead target down')
})

test('504 when the upstream does not answer within readTimeout; retried on the next upstream first', async () => {
  const hung = await upstream(() => { /* never answers */ })
  const p = pools({ app: { targets: [hung.address], readTimeout: '300ms', maxFails: 0 } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/slow`)
  assert.equal(r.status, 504)
  assert.match(r.body, /504 Gateway Timeout/)

  const fine = await upstream((_req, res) => res.end('fast'))
  const p2 = pools({ app: { targets: [hung.address, fine.address], readTimeout: '1500ms', policy: 'round-robin' } })
  const e2 = await edge(p2.get('app')!)
  for (let i = 0; i < 2; i++) assert.equal((await request(`${e2.url}/`)).body, 'fast')
})

test('a POST that timed out after being sent is not retried', async () => {
  let hits = 0
  const hung = await upstream((req) => { hits++; req.resume() })
  const other = await upstream((req) => { hits++; req.resume() })
  const p = pools({ app: { targets: [hung.address, other.address], readTimeout: '200ms', maxFails: 0 } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/`, { method: 'POST', body: 'once' })
  assert.equal(r.status, 504)
  assert.equal(hits, 1)
})

test('the response streams: the client sees the first chunk before the upstream finishes', async () => {
  let finish!: () => void
  const up = await upstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first;')
    finish = () => res.end('last')
  })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`${e.url}/`, { agent: false }, (res) => {
      let got = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { got += c; if (got === 'first;') finish() })
      res.on('end', () => resolve(got))
    }).on('error', reject)
  })
  assert.equal(text, 'first;last')
})

test('an upstream reset mid-body cuts the client connection (no silent truncation)', async () => {
  const up = await upstream((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' })
    res.write('partial')
    setImmediate(() => res.socket!.destroy())
  })
  const p = pools({ app: { targets: [up.address], maxFails: 0 } })
  const e = await edge(p.get('app')!)
  await assert.rejects(request(`${e.url}/`), /aborted|ECONNRESET|socket hang up/)
})

test('Expect: 100-continue is answered by the edge and not forwarded', async () => {
  let seen: http.IncomingHttpHeaders = {}
  const up = await upstream((req, res) => { seen = req.headers; let n = 0; req.on('data', (c) => { n += c.length }); req.on('end', () => res.end(`got ${n}`)) })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  const text = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${e.url}/up`, { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5' } }, (res) => {
      let t = ''
      res.on('data', (c) => { t += c })
      res.on('end', () => resolve(t))
    })
    req.on('continue', () => req.end('hello'))
    req.on('error', reject)
  })
  assert.equal(text, 'got 5')
  assert.equal(seen.expect, undefined)
})

test('a client that goes away mid-response aborts the upstream request', async () => {
  let upstreamClosed!: () => void
  const closed = new Promise<void>((r) => { upstreamClosed = r })
  const up = await upstream((_req, res) => {
    res.writeHead(200)
    res.write('start')
    res.on('close', () => upstreamClosed())
  })
  const p = pools({ app: { targets: [up.address], maxFails: 1 } })
  const e = await edge(p.get('app')!)
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${e.url}/long`, { agent: false }, (res) => { res.once('data', () => { req.destroy(); resolve() }) })
    req.on('error', () => {})
    setTimeout(() => reject(new Error('no first chunk')), 5000).unref()
  })
  await closed
  const u = p.get('app')!.members()[0]!
  while (u.inFlight !== 0) await new Promise((r) => setImmediate(r))
  assert.equal(u.available(), true, 'a client abort is not an upstream failure')
})

test('a connect timeout is a 504, and an idempotent request is retried on another upstream', async () => {
  // A TCP server that accepts and never answers the TLS handshake: connecting to it as https
  // times out deterministically, whatever the network.
  const net = await import('node:net')
  const held = new Set<import('node:net').Socket>()
  const silent = net.createServer((s) => { held.add(s); s.on('error', () => {}) })
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  cleanup.push(() => new Promise<void>((r) => { for (const s of held) s.destroy(); silent.close(() => r()) }))
  const silentAddress = `https://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}`
  const p = pools({ app: { targets: [silentAddress], connectTimeout: '200ms', maxFails: 0 } })
  const e = await edge(p.get('app')!)
  const r = await request(`${e.url}/`)
  assert.equal(r.status, 504)
  assert.match(String(e.last!.notes.proxyError), /CONNECT_TIMEOUT/)

  const up = await upstream((req, res) => { req.resume(); res.end('other') })
  const p2 = pools({ app: { targets: [silentAddress, up.address], connectTimeout: '1s', maxFails: 0 } })
  const e2 = await edge(p2.get('app')!)
  for (let i = 0; i < 2; i++) assert.equal((await request(`${e2.url}/`, { method: 'PUT', body: 'x' })).body, 'other')
  const p3 = pools({ app: { targets: [silentAddress], connectTimeout: '200ms', maxFails: 0 } })
  const e3 = await edge(p3.get('app')!)
  assert.equal((await request(`${e3.url}/`, { method: 'POST', body: 'x' })).status, 504, 'a POST is not replayed')
})

test('upstream connections are kept alive and reused', async () => {
  let connections = 0
  const up = await upstream((_req, res) => res.end('k'))
  up.server.on('connection', () => { connections++ })
  const p = pools({ app: { targets: [up.address] } })
  const e = await edge(p.get('app')!)
  for (let i = 0; i < 30; i++) assert.equal((await request(`${e.url}/${i}`)).body, 'k')
  assert.equal(connections, 1, 'thirty sequential requests over one upstream connection')
})

test('an upstream head with an invalid header value is answered 502 carrying none of its headers', async () => {
  const net = await import('node:net')
  const raw = net.createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nSet-Cookie: session=leak\r\nX-Before: 1\r\nX-Bad: a\u00ffb\u0001c\r\nContent-Length: 2\r\n\r\nok'))
  })
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()))
  cleanup.push(() => new Promise<void>((r) => raw.close(() => r())))
  const addr = `http://127.0.0.1:${(raw.address() as { port: number }).port}`
  const e = await edge(pools({ app: { targets: [addr], maxFails: 0 } }).get('app')!)
  const r = await request(`${e.url}/`)
  assert.equal(r.status, 502)
  assert.equal(r.headers['set-cookie'], undefined)
  assert.equal(r.headers['x-before'], undefined)
})
