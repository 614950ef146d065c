import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { request, startEdge, waitFor } from './front-support.ts'
import type { Firewall, FirewallRequest } from '../../src/firewall/contract.ts'

const PAGE = '<p>product</p>'.repeat(500)

async function upstream(t: Parameters<typeof startEdge>[0]) {
  const seen: http.IncomingHttpHeaders[] = []
  const app = http.createServer((req, res) => {
    seen.push(req.headers)
    if (req.url === '/login') {
      res.writeHead(401, { 'content-type': 'text/plain', 'x-causeway-auth-failure': 'john' })
      res.end('nope')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(PAGE)
  })
  app.on('upgrade', (_req, sock: net.Socket) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    sock.on('data', (d) => sock.write(d))
  })
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  t.after(() => { app.closeAllConnections(); app.close() })
  return { port: (app.address() as AddressInfo).port, seen }
}

test('engine + proxy: proxied responses get the request id, compression, and the auth header stripped', async (t) => {
  const up = await upstream(t)
  const observed: unknown[] = []
  const fw: Firewall = {
    decide: () => ({ action: 'allow' }),
    observe: (req: FirewallRequest, status, headers) => { observed.push([req.path, status, headers['x-causeway-auth-failure']]) },
    connect: () => () => {},
    close: async () => {},
  }
  const edge = await startEdge(t, {
    upstreams: { app: { targets: [`http://127.0.0.1:${up.port}`] } },
    routes: [{ name: 'app', action: { proxy: { pool: 'app' } } }],
  }, { firewall: fw })
  const url = edge.addresses[0]!.url
  const r = await request(`${url}/products/`, { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(r.status, 200)
  assert.equal(r.headers['content-encoding'], 'gzip')
  assert.equal(gunzipSync(r.body).toString(), PAGE)
  assert.equal(up.seen[0]!['x-request-id'], r.headers['x-request-id'])
  const login = await request(`${url}/login`)
  assert.equal(login.status, 401)
  assert.equal(login.headers['x-causeway-auth-failure'], undefined)
  await waitFor(() => observed.length === 2)
  assert.deepEqual(observed[1], ['/login', 401, 'john'])
})

test('engine + proxy: the proxy compresses only a qualifying head, and strips the auth header on the sticky path too', async (t) => {
  const big = 'proxied text '.repeat(300)
  const app = http.createServer((req, res) => {
    const length = { 'content-length': String(Buffer.byteLength(big)) }
    const path = req.url!.replace(/^\/sticky/, '')
    if (path === '/length') res.writeHead(200, { 'content-type': 'text/plain', etag: '"e1"', ...length }).end(big)
    else if (path === '/encoded') res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', ...length }).end(big)
    else if (path === '/png') res.writeHead(200, { 'content-type': 'image/png', ...length }).end(big)
    else if (path === '/small') res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end('small')
    else if (path === '/login') res.writeHead(401, { 'content-type': 'text/plain', 'x-causeway-auth-failure': 'ann' }).end('nope')
    else res.writeHead(200, { 'content-type': 'text/plain', ...length }).end(req.method === 'HEAD' ? undefined : big)
  })
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  t.after(() => { app.closeAllConnections(); app.close() })
  const target = `http://127.0.0.1:${(app.address() as AddressInfo).port}`
  const edge = await startEdge(t, {
    upstreams: { app: { targets: [target] }, pinned: { targets: [target], sticky: true } },
    routes: [
      { match: { pathPrefix: '/sticky/' }, action: { proxy: { pool: 'pinned' } } },
      { action: { proxy: { pool: 'app' } } },
    ],
  })
  const url = edge.addresses[0]!.url
  const ae = { 'accept-encoding': 'gzip, br' }
  const br = await request(`${url}/length`, { headers: ae })
  assert.equal(br.headers['content-encoding'], 'br')
  assert.equal(br.headers['content-length'], undefined)
  assert.equal(br.headers.vary, 'Accept-Encoding')
  assert.equal(br.headers.etag, 'W/"e1"')
  assert.equal(brotliDecompressSync(br.body).toString(), big)
  const gz = await request(`${url}/length`, { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(gunzipSync(gz.body).toString(), big)
  const enc = await request(`${url}/encoded`, { headers: ae })
  assert.equal(enc.headers['content-encoding'], 'gzip')
  assert.equal(enc.headers.vary, undefined)
  assert.equal(enc.text, big)
  for (const path of ['/png', '/small']) {
    const r = await request(`${url}${path}`, { headers: ae })
    assert.equal(r.headers['content-encoding'], undefined, path)
    assert.equal(r.headers.vary, undefined, path)
  }
  const head = await request(`${url}/length`, { method: 'HEAD', headers: ae })
  assert.equal(head.headers['content-encoding'], undefined)
  assert.equal(head.headers['content-length'], String(Buffer.byteLength(big)))
  const identity = await request(`${url}/length`)
  assert.equal(identity.headers['content-encoding'], undefined)
  assert.equal(identity.text, big)
  // Sticky pools decorate the head (the cookie): same filters.
  const sticky = await request(`${url}/sticky/length`, { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(sticky.headers['content-encoding'], 'gzip')
  assert.ok(String(sticky.headers['set-cookie']).startsWith('cw_sticky='))
  assert.equal(gunzipSync(sticky.body).toString(), big)
  const login = await request(`${url}/sticky/login`)
  assert.equal(login.status, 401)
  assert.equal(login.headers['x-causeway-auth-failure'], undefined)
  assert.equal(login.text, 'nope')
})

test('engine + proxy: a WebSocket-style upgrade is passed through to the upstream', async (t) => {
  const up = await upstream(t)
  const edge = await startEdge(t, {
    upstreams: { app: { targets: [`http://127.0.0.1:${up.port}`] } },
    routes: [{ action: { proxy: { pool: 'app' } } }],
  })
  const sock = net.connect(edge.addresses[0]!.port, '127.0.0.1')
  let got = ''
  sock.on('data', (d) => { got += d })
  sock.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n')
  await waitFor(() => got.includes('101'))
  sock.write('ping-123')
  await waitFor(() => got.includes('ping-123'))
  sock.destroy()
})

test('engine + proxy: a route naming an unknown pool is a ConfigError naming the key', async () => {
  const { createEdge } = await import('../../src/edge/index.ts')
  assert.throws(() => createEdge({ edge: { upstreams: { app: { targets: ['http://127.0.0.1:1'] } }, routes: [{ action: { proxy: { pool: 'ap' } } }] } }),
    /edge\.routes\[0\]\.action\.proxy\.pool: no upstream pool named "ap"/)
})

test('engine + proxy: `edge.cache` with `cache: true` serves repeats from the cache, logged with the cache status', async (t) => {
  let hits = 0
  const app = http.createServer((_req, res) => {
    hits++
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60' })
    res.end('cacheable')
  })
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  t.after(() => app.close())
  const { PassThrough } = await import('node:stream')
  const out = new PassThrough()
  let log = ''
  out.on('data', (c) => { log += c })
  const edge = await startEdge(t, {
    accessLog: { format: 'json' },
    upstreams: { app: { targets: [`http://127.0.0.1:${(app.address() as AddressInfo).port}`] } },
    cache: { maxSize: '1mb' },
    routes: [{ match: { pathPrefix: '/nocache/' }, action: { proxy: { pool: 'app' } } }, { action: { proxy: { pool: 'app', cache: true } } }],
  }, { accessLogStream: out })
  const url = edge.addresses[0]!.url
  const a = await request(`${url}/c`)
  const b = await request(`${url}/c`)
  assert.equal(b.text, 'cacheable')
  assert.equal(a.headers['x-cache'], 'MISS')
  assert.equal(b.headers['x-cache'], 'HIT')
  assert.equal(hits, 1)
  await request(`${url}/nocache/x`)
  await request(`${url}/nocache/x`)
  assert.equal(hits, 3)
  await waitFor(() => log.trim().split('\n').length >= 4)
  const caches = log.trim().split('\n').map((l) => JSON.parse(l).cache)
  assert.deepEqual(caches.slice(0, 2), ['MISS', 'HIT'])
  const { createEdge } = await import('../../src/edge/index.ts')
  assert.throws(() => createEdge({ edge: { upstreams: { app: { targets: ['http://127.0.0.1:1'] } }, routes: [{ action: { proxy: { pool: 'app', cache: true } } }] } }), /edge\.routes\[0\]\.action\.proxy\.cache/)
  assert.throws(() => createEdge({ edge: { cache: { maxSize: 'big' } } }), /edge\.cache\.maxSize/)
})
