// PROXY protocol v1/v2: the parser, and the server believing it only from proxyAllowIps.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseProxyHeader, buildProxyHeaderV1, buildProxyHeaderV2, ProxyProtocolError } from '../../src/net/proxy-protocol.ts'
import { rawRequest } from './support/load.ts'
import { startFront } from './support/frontend.ts'
import { CONNECTION_INFO, type ConnectionInfo } from '../../src/contract.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'

test('v1 headers parse, with the bytes after them left for HTTP', () => {
  const buf = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 80\r\nGET / HTTP/1.1\r\n')
  const r = parseProxyHeader(buf)!
  assert.deepEqual(r.header, { version: 1, command: 'PROXY', family: 'tcp4', sourceAddress: '203.0.113.7', destinationAddress: '10.0.0.1', sourcePort: 51234, destinationPort: 80 })
  assert.equal(buf.toString('latin1', r.length), 'GET / HTTP/1.1\r\n')
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8::1 ::1 1 2\r\n'))!.header.sourceAddress, '2001:db8::1')
  assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))!.header.command, 'LOCAL')
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), undefined, 'incomplete: wait for more')
})

test('v1 rejects bad headers', () => {
  for (const bad of ['PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', 'GET / HTTP/1.1\r\n', `PROXY TCP4 ${'1'.repeat(120)}`]) {
    assert.throws(() => parseProxyHeader(Buffer.from(bad)), ProxyProtocolError, bad)
  }
})

test('v2 headers parse for IPv4, IPv6 and LOCAL', () => {
  const v4 = buildProxyHeaderV2('198.51.100.9', '10.0.0.2', 4000, 443)
  const r = parseProxyHeader(Buffer.concat([v4, Buffer.from('GET')]))!
  assert.deepEqual(r.header, { version: 2, command: 'PROXY', family: 'tcp4', sourceAddress: '198.51.100.9', destinationAddress: '10.0.0.2', sourcePort: 4000, destinationPort: 443 })
  assert.equal(r.length, v4.length)
  assert.equal(parseProxyHeader(buildProxyHeaderV2('2001:db8::5', '::1', 1, 2))!.header.sourceAddress, '2001:db8::5')
  const local = Buffer.from(v4.subarray(0, 16))
  local[12] = 0x20
  local.writeUInt16BE(0, 14)
  assert.equal(parseProxyHeader(local)!.header.command, 'LOCAL')
  assert.equal(parseProxyHeader(v4.subarray(0, 20)), undefined, 'incomplete')
  const badVersion = Buffer.from(v4)
  badVersion[12] = 0x31
  assert.throws(() => parseProxyHeader(badVersion), ProxyProtocolError)
})

const infoApp = (req: IncomingMessage, res: ServerResponse): void => {
  res.end(JSON.stringify((req as unknown as Record<symbol, ConnectionInfo>)[CONNECTION_INFO]))
}
const body = (text: string): ConnectionInfo => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))
const GET = 'GET /info HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'

test('the server takes the client address from v1 and v2 headers sent by an allowed proxy', async () => {
  const t = await startFront({ proxyProtocol: true, forwardedAllowIps: [] }, infoApp)
  try {
    const r1 = await rawRequest(t.port, Buffer.concat([buildProxyHeaderV1('203.0.113.50', '127.0.0.1', 5555, t.port), Buffer.from(GET)]))
    assert.equal(body(r1.text).clientAddress, '203.0.113.50')
    const r2 = await rawRequest(t.port, Buffer.concat([buildProxyHeaderV2('2001:db8::77', '::1', 5555, t.port), Buffer.from(GET)]))
    assert.equal(body(r2.text).clientAddress, '2001:db8::77')
    const bad = await rawRequest(t.port, 'PROXY TCP4 nonsense\r\n' + GET)
    assert.match(bad.text, /^HTTP\/1\.1 400 /)
    assert.equal(bad.closed, true)
    const missing = await rawRequest(t.port, GET)
    assert.match(missing.text, /^HTTP\/1\.1 400 /, 'an allowed proxy must send the header')
    assert.equal(t.calls.length, 2)
  } finally {
    await t.close()
  }
})

test('a PROXY header from a peer outside proxyAllowIps is refused; plain HTTP from it is served', async () => {
  const t = await startFront({ proxyProtocol: true, proxyAllowIps: ['10.0.0.0/8'], forwardedAllowIps: [] }, infoApp)
  try {
    const spoof = await rawRequest(t.port, Buffer.concat([buildProxyHeaderV1('6.6.6.6', '127.0.0.1', 1, 2), Buffer.from(GET)]))
    assert.match(spoof.text, /^HTTP\/1\.1 400 /)
    const spoof2 = await rawRequest(t.port, Buffer.concat([buildProxyHeaderV2('6.6.6.6', '127.0.0.1', 1, 2), Buffer.from(GET)]))
    assert.match(spoof2.text, /^HTTP\/1\.1 400 /)
    const plain = await rawRequest(t.port, GET)
    assert.equal(body(plain.text).clientAddress, '127.0.0.1')
    assert.equal(t.calls.length, 1)
  } finally {
    await t.close()
  }
})

test('behind a PROXY header, a client that does not finish its head still gets 408 after headersTimeout', async () => {
  const t = await startFront({ proxyProtocol: true, forwardedAllowIps: [], headersTimeout: 400 }, infoApp)
  try {
    const started = Date.now()
    const r = await rawRequest(t.port, Buffer.concat([buildProxyHeaderV1('203.0.113.51', '127.0.0.1', 5555, t.port), Buffer.from('GET /info HTTP/1.1\r\nHost: t\r\nX-Slow: ')]), { timeoutMs: 4000 })
    assert.match(r.text, /^HTTP\/1\.1 408 /, `the head timeout applies to proxied connections too (got ${JSON.stringify(r.text)} after ${Date.now() - started} ms)`)
    assert.equal(r.closed, true)
    assert.equal(t.calls.length, 0)
  } finally {
    await t.close()
  }
})
