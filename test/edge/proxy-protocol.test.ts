// PROXY protocol on edge listeners: believed only from edge.trustedProxies, read before HTTP and
// TLS, and its source address is the client everywhere downstream (firewall, upstream, log).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import { PassThrough } from 'node:stream'
import type { IncomingHttpHeaders } from 'node:http'
import { buildProxyHeaderV1, buildProxyHeaderV2 } from '../../src/net/proxy-protocol.ts'
import { validateEdgeConfig } from '../../src/edge/config/validate.ts'
import { makeCert, rawRequest, startEdge, tempDir, waitFor } from './front-support.ts'
import { startUpstream } from './support/harness.ts'

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n`

async function proxiedEdge(t: import('node:test').TestContext, edge: Record<string, unknown> = {}, firewallSection?: Record<string, unknown>) {
  const seen: IncomingHttpHeaders[] = []
  const up = await startUpstream((req, res) => { seen.push(req.headers); res.end('up\n') })
  t.after(() => up.close())
  const lines = new PassThrough()
  let log = ''
  lines.on('data', (c) => { log += c })
  const e = await startEdge(t, {
    trustedProxies: ['127.0.0.1'],
    listen: [{ port: 0, proxyProtocol: true }],
    accessLog: { format: 'json' },
    upstreams: { app: { targets: [`http://127.0.0.1:${up.port}`] } },
    routes: [{ name: 'app', action: { proxy: { pool: 'app' } } }],
    ...edge,
  }, { firewallSection, accessLogStream: lines })
  return { edge: e, port: e.addresses[0]!.port, seen, up, log: () => log }
}

test('proxy protocol: v1 and v2 headers from a trusted peer make their source the client (upstream headers, access log)', async (t) => {
  const { port, seen, log } = await proxiedEdge(t)
  const a = await rawRequest(port, Buffer.concat([buildProxyHeaderV1('198.51.100.7', '10.0.0.1', 40000, 443), Buffer.from(GET('/v1'))]))
  assert.match(a, /^HTTP\/1\.1 200 /)
  assert.equal(seen[0]!['x-forwarded-for'], '198.51.100.7')
  assert.equal(seen[0]!['x-real-ip'], '198.51.100.7')
  const b = await rawRequest(port, Buffer.concat([buildProxyHeaderV2('2001:db8::5', '2001:db8::1', 40000, 443), Buffer.from(GET('/v2'))]))
  assert.match(b, /^HTTP\/1\.1 200 /)
  assert.equal(seen[1]!['x-forwarded-for'], '2001:db8::5')
  assert.equal(seen[1]!['x-real-ip'], '2001:db8::5')
  // The header may arrive on its own, before the request.
  const sock = net.connect(port, '127.0.0.1')
  const reply = new Promise<string>((resolve) => { let s = ''; sock.on('data', (c) => { s += c }); sock.on('close', () => resolve(s)) })
  sock.write(buildProxyHeaderV2('203.0.113.9', '10.0.0.1', 1, 2))
  await new Promise((r) => setTimeout(r, 50))
  sock.write(GET('/split'))
  assert.match(await reply, /^HTTP\/1\.1 200 /)
  assert.equal(seen[2]!['x-real-ip'], '203.0.113.9')
  // A LOCAL-style header (v1 UNKNOWN) keeps the real peer.
  await rawRequest(port, `PROXY UNKNOWN\r\n${GET('/local')}`)
  assert.equal(seen[3]!['x-real-ip'], '127.0.0.1')
  await waitFor(() => log().trim().split('\n').length >= 4)
  const clients = log().trim().split('\n').map((l) => JSON.parse(l).client)
  assert.deepEqual(clients, ['198.51.100.7', '2001:db8::5', '203.0.113.9', '127.0.0.1'])
})

test('proxy protocol: the firewall limits the header\'s source address, not the proxy', async (t) => {
  const { port, up } = await proxiedEdge(t, {}, {
    store: 'memory', logBlocks: false, zones: [{ name: 'site', rate: '1r/m', burst: 0, nodelay: true }], bans: { enabled: false },
  })
  const from = (ip: string, v: 1 | 2) => rawRequest(port, Buffer.concat([(v === 1 ? buildProxyHeaderV1 : buildProxyHeaderV2)(ip, '10.0.0.1', 5000, 80), Buffer.from(GET('/'))]))
  const status = (r: string) => Number(r.slice(9, 12))
  // Two clients behind the same proxy: each has its own allowance.
  assert.equal(status(await from('198.51.100.1', 1)), 200)
  assert.equal(status(await from('198.51.100.2', 2)), 200)
  // The same client again (either header version) is over the limit.
  assert.equal(status(await from('198.51.100.1', 2)), 429)
  assert.equal(status(await from('198.51.100.2', 1)), 429)
  assert.equal(up.hits, 2)
})

test('proxy protocol: the firewall\'s connection limit counts the header\'s source address', async (t) => {
  const { port, up } = await proxiedEdge(t, {}, { store: 'memory', logBlocks: false, connectionsPerClient: 1, bans: { enabled: false } })
  // One client holds a connection open through the proxy.
  const held = net.connect(port, '127.0.0.1')
  t.after(() => held.destroy())
  held.write(buildProxyHeaderV1('198.51.100.1', '10.0.0.1', 5000, 80))
  await new Promise((r) => setTimeout(r, 100))
  const from = (ip: string) => rawRequest(port, Buffer.concat([buildProxyHeaderV2(ip, '10.0.0.1', 5001, 80), Buffer.from(GET('/'))]), 2000)
  // Another client behind the same proxy is not counted against it…
  assert.match(await from('198.51.100.2'), /^HTTP\/1\.1 200 /)
  // …the same client's second connection is refused.
  assert.equal(await from('198.51.100.1'), '')
  assert.equal(up.hits, 1)
})

test('proxy protocol: a header from an untrusted peer is refused; plain HTTP from it is served', async (t) => {
  const { port, up, seen } = await proxiedEdge(t, { trustedProxies: ['10.0.0.0/8'] })
  const r = await rawRequest(port, Buffer.concat([buildProxyHeaderV1('198.51.100.7', '10.0.0.1', 1, 2), Buffer.from(GET('/'))]))
  assert.match(r, /^HTTP\/1\.1 400 /)
  assert.match(r, /not in edge\.trustedProxies/)
  const r2 = await rawRequest(port, Buffer.concat([buildProxyHeaderV2('198.51.100.7', '10.0.0.1', 1, 2), Buffer.from(GET('/'))]))
  assert.match(r2, /^HTTP\/1\.1 400 /)
  assert.equal(up.hits, 0)
  // Without a header the untrusted peer is an ordinary client.
  const ok = await rawRequest(port, GET('/'))
  assert.match(ok, /^HTTP\/1\.1 200 /)
  assert.equal(seen[0]!['x-real-ip'], '127.0.0.1')
})

test('proxy protocol: a trusted peer that sends no header is refused (400), or closed after the timeout (408)', async (t) => {
  const { port, up } = await proxiedEdge(t, { limits: { headersTimeout: 300 } })
  const r = await rawRequest(port, GET('/'))
  assert.match(r, /^HTTP\/1\.1 400 /)
  assert.match(r, /missing PROXY protocol header/)
  const started = Date.now()
  const silent = await rawRequest(port, '', 3000)
  assert.match(silent, /^HTTP\/1\.1 408 /)
  assert.ok(Date.now() - started < 2500, 'closed by the header timeout')
  // Half a header, then nothing: the same.
  assert.match(await rawRequest(port, 'PROXY TCP4 198.51.100.7', 3000), /^HTTP\/1\.1 408 /)
  assert.equal(up.hits, 0)
})

test('proxy protocol: an HTTPS listener reads the header before the TLS handshake (HTTP/1.1 and HTTP/2)', async (t) => {
  const dir = tempDir(t)
  const cert = await makeCert(dir, 'shop', ['shop.test'])
  const { port, seen, up } = await proxiedEdge(t, { listen: [{ port: 0, proxyProtocol: true, tls: { certs: [cert] } }] })
  const rawWith = (header: Buffer, together: boolean): net.Socket => {
    const raw = net.connect(port, '127.0.0.1')
    if (together) raw.cork()
    raw.write(header)
    // Header and ClientHello in one packet: the TLS server must still see the ClientHello.
    if (together) process.nextTick(() => raw.uncork())
    return raw
  }
  const h1 = (header: Buffer, together: boolean) => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ socket: rawWith(header, together), servername: 'shop.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write(GET('/tls')))
    let out = ''
    s.on('data', (c) => { out += c })
    s.on('end', () => resolve(out))
    s.on('error', reject)
  })
  assert.match(await h1(buildProxyHeaderV1('198.51.100.7', '10.0.0.1', 1, 443), true), /^HTTP\/1\.1 200 /)
  assert.equal(seen.at(-1)!['x-real-ip'], '198.51.100.7')
  assert.equal(seen.at(-1)!['x-forwarded-proto'], 'https')
  assert.match(await h1(buildProxyHeaderV2('198.51.100.8', '10.0.0.1', 1, 443), false), /^HTTP\/1\.1 200 /)
  assert.equal(seen.at(-1)!['x-forwarded-for'], '198.51.100.8')
  const h2 = await new Promise<number>((resolve, reject) => {
    const client = http2.connect(`https://shop.test:${port}`, {
      createConnection: () => tls.connect({ socket: rawWith(buildProxyHeaderV2('2001:db8::7', '2001:db8::1', 1, 443), true), servername: 'shop.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] }),
    })
    client.on('error', reject)
    const req = client.request({ ':path': '/h2' })
    req.on('response', (h) => { req.resume(); req.on('end', () => { client.close(); resolve(Number(h[':status'])) }) })
    req.on('error', reject)
    req.end()
  })
  assert.equal(h2, 200)
  assert.equal(seen.at(-1)!['x-real-ip'], '2001:db8::7')
  assert.equal(up.hits, 3)
  // A TLS client behind an untrusted peer… here: no header from the trusted peer → closed, nothing proxied.
  const bare = await new Promise<string>((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'shop.test', rejectUnauthorized: false }, () => resolve('handshake'))
    s.on('error', () => resolve('refused'))
    s.on('close', () => resolve('refused'))
  })
  assert.equal(bare, 'refused')
  assert.equal(up.hits, 3)
})

test('proxy protocol: config', () => {
  const listen = (l: Record<string, unknown>, more: Record<string, unknown> = {}) => validateEdgeConfig({ listen: [{ port: 0 }, { port: 0, ...l }], ...more }, process.cwd())
  assert.equal(listen({}).listen[1]!.proxyProtocol, false)
  assert.equal(listen({ proxyProtocol: true }, { trustedProxies: ['10.0.0.0/8'] }).listen[1]!.proxyProtocol, true)
  assert.throws(() => listen({ proxyProtocol: true }), (e: Error) => /edge\.listen\[1\]\.proxyProtocol/.test(e.message) && /trustedProxies/.test(e.message))
  assert.throws(() => listen({ proxyProtocol: 'sometimes' }, { trustedProxies: ['10.0.0.0/8'] }), /edge\.listen\[1\]\.proxyProtocol/)
  // Turning it on or off reopens the listener on reload (a different key).
  assert.notEqual(listen({}).listen[1]!.key, listen({ proxyProtocol: true }, { trustedProxies: ['10.0.0.0/8'] }).listen[1]!.key)
})
