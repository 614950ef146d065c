// The edge's own HTTP/1.1 upstream client (src/edge/upstream/h1-*.ts) over real sockets: response
// framings, the keep-alive race, malformed responses, timeouts. The upstreams here are raw TCP
// servers that write exactly the bytes a test wants.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { createUpstreamPools } from '../../src/edge/upstream/index.ts'
import { createProxyAction } from '../../src/edge/proxy/index.ts'
import { ChunkedDecoder } from '../../src/edge/upstream/chunked-decoder.ts'
import { parseResponseHead } from '../../src/edge/upstream/response-head.ts'
import { startEdge, startUpstream, request, type Running } from './support/harness.ts'

const cleanup: Array<() => Promise<void> | void> = []
after(async () => { for (const fn of cleanup.reverse()) await fn() })

interface Raw {
  address: string
  /** Connections accepted so far. */
  connections: number
  /** Request heads received, in order. */
  heads: string[]
}

/**
 * A raw upstream: `answer(sock, head, index)` is called for each request head (bodies are not
 * expected) and writes whatever bytes the test wants.
 */
async function rawUpstream(answer: (sock: net.Socket, head: string, index: number) => void): Promise<Raw> {
  const sockets = new Set<net.Socket>()
  const raw: Raw = { address: '', connections: 0, heads: [] }
  const server = net.createServer((sock) => {
    raw.connections++
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.on('error', () => {})
    let buf = ''
    sock.setEncoding('latin1')
    sock.on('data', (d: string) => {
      buf += d
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end)
        buf = buf.slice(end + 4)
        raw.heads.push(head)
        answer(sock, head, raw.heads.length - 1)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  raw.address = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  cleanup.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()) }))
  return raw
}

async function edgeFor(address: string, extra: Record<string, unknown> = {}): Promise<Running> {
  const pools = createUpstreamPools({ app: { targets: [address], maxFails: 0, ...extra } }, { startHealthChecks: false, env: {} })
  cleanup.push(() => pools.close(false))
  const e = await startEdge(createProxyAction(pools.get('app')!))
  cleanup.push(() => e.close())
  return e
}

test('a chunked response split at every awkward place arrives whole, trailers dropped; the connection is reused', async () => {
  const up = await rawUpstream((sock) => {
    const parts = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n', '5', '\r\nhel', 'lo\r', '\n6;ext=1\r\n world\r\n', '0\r\nX-Trailer: t\r\n', '\r\n']
    let i = 0
    const next = () => { if (i < parts.length) { sock.write(parts[i++]!); setTimeout(next, 5) } }
    next()
  })
  const e = await edgeFor(up.address)
  for (let n = 0; n < 2; n++) {
    const r = await request(`${e.url}/c${n}`)
    assert.equal(r.status, 200)
    assert.equal(r.body, 'hello world')
    assert.equal(r.headers['x-trailer'], undefined)
  }
  assert.equal(up.connections, 1, 'one upstream connection for both requests')
})

test('a close-delimited body is relayed to the end; that connection is not reused', async () => {
  const up = await rawUpstream((sock, _head, i) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ')
    setTimeout(() => sock.end(`the close ${i}`), 10)
  })
  const e = await edgeFor(up.address)
  assert.equal((await request(`${e.url}/a`)).body, 'until the close 0')
  assert.equal((await request(`${e.url}/b`)).body, 'until the close 1')
  assert.equal(up.connections, 2)
})

test('HEAD, 204 and 304 end without a body and keep the connection', async () => {
  const up = await rawUpstream((sock, head) => {
    if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Head: 1\r\n\r\n')
    else if (head.startsWith('GET /204')) sock.write('HTTP/1.1 204 No Content\r\nX-204: 1\r\n\r\n')
    else if (head.startsWith('GET /304')) sock.write('HTTP/1.1 304 Not Modified\r\nETag: "e"\r\nContent-Length: 99\r\n\r\n')
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast')
  })
  const e = await edgeFor(up.address)
  const h = await request(`${e.url}/h`, { method: 'HEAD' })
  assert.equal(h.status, 200)
  assert.equal(h.headers['content-length'], '5')
  assert.equal(h.headers['x-head'], '1')
  const n = await request(`${e.url}/204`)
  assert.equal(n.status, 204)
  assert.equal(n.headers['x-204'], '1')
  const m = await request(`${e.url}/304`, { headers: { 'if-none-match': '"e"' } })
  assert.equal(m.status, 304)
  assert.equal(m.headers.etag, '"e"')
  assert.equal((await request(`${e.url}/after`)).body, 'last')
  assert.equal(up.connections, 1, 'no body was awaited after HEAD, 204 or 304')
})

test('1xx informational heads are skipped; the final response is relayed', async () => {
  const up = await rawUpstream((sock) => {
    sock.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
  })
  const e = await edgeFor(up.address)
  const r = await request(`${e.url}/`)
  assert.equal(r.status, 200)
  assert.equal(r.body, 'ok')
})

test('the keep-alive race: an idle connection the upstream closes as the request goes out is retried on a fresh one', async () => {
  // The first request on each connection is answered; any later one on the same connection is
  // met with a close, as an upstream whose keep-alive timeout just fired would do.
  const perSocket = new WeakMap<net.Socket, number>()
  const up = await rawUpstream((sock) => {
    const n = perSocket.get(sock) ?? 0
    perSocket.set(sock, n + 1)
    if (n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh')
    else sock.destroy()
  })
  const pools = createUpstreamPools({ app: { targets: [up.address], maxFails: 1 } }, { startHealthChecks: false, env: {} })
  cleanup.push(() => pools.close(false))
  const e = await startEdge(createProxyAction(pools.get('app')!))
  cleanup.push(() => e.close())
  assert.equal((await request(`${e.url}/1`)).body, 'fresh')
  const again = await request(`${e.url}/2`)
  assert.equal(again.status, 200)
  assert.equal(again.body, 'fresh')
  assert.equal(up.connections, 2, 'the retry went out on a new connection')
  const u = pools.get('app')!.members()[0]!
  assert.equal(u.failures(), 0, 'the keep-alive race is not an upstream failure')
  assert.equal(u.available(), true)

  // A POST is not replayed: it gets 502.
  const post = await request(`${e.url}/3`, { method: 'POST', body: 'once' })
  assert.equal(post.status, 502)
})

test('malformed responses are 502 with the error page: status line, header line, both framings, oversized head', async () => {
  const bodies: Record<string, string> = {
    '/status': 'HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n',
    '/version': 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    '/garbage': 'hello there\r\n\r\n',
    '/colon': 'HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 0\r\n\r\n',
    '/space': 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    '/barelf': 'HTTP/1.1 200 OK\r\nX-A: a\nX-B: b\r\nContent-Length: 2\r\n\r\nok',
    '/both': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    '/lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
    '/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n',
    '/huge': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`,
  }
  const up = await rawUpstream((sock, head) => {
    const path = head.split(' ')[1]!
    sock.write(bodies[path]!)
  })
  const e = await edgeFor(up.address)
  for (const path of Object.keys(bodies)) {
    if (path === '/chunk') continue // the head was fine: the status line is out before the body breaks
    const r = await request(`${e.url}${path}`)
    assert.equal(r.status, 502, path)
    assert.match(r.body, /502 Bad Gateway/, path)
    assert.equal(r.headers['x-big'], undefined)
  }
  assert.match(String(e.last!.notes.proxyError), /larger than 16384 bytes/)
  // A broken chunked body after a good head: the client's connection is cut, never a short 200.
  await assert.rejects(request(`${e.url}/chunk`), /aborted|ECONNRESET|socket hang up/)
})

test('a slow upstream: 504 when the head does not come within readTimeout; a stalled body cuts the client', async () => {
  const up = await rawUpstream((sock, head) => {
    if (head.startsWith('GET /stall')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart')
    // else: never answer
  })
  const e = await edgeFor(up.address, { readTimeout: '300ms' })
  const r = await request(`${e.url}/slow`)
  assert.equal(r.status, 504)
  assert.match(String(e.last!.notes.proxyError), /HEADERS_TIMEOUT/)
  await assert.rejects(request(`${e.url}/stall`), /aborted|ECONNRESET|socket hang up/)
})

test('a chunked request body (no Content-Length) reaches the upstream intact', async () => {
  const up = await startUpstream((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => res.end(`${req.headers['transfer-encoding']} ${Buffer.concat(chunks).toString()}`))
  })
  cleanup.push(() => up.close())
  const e = await edgeFor(up.address)
  const text = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${e.url}/up`, { method: 'POST', agent: false }, (res) => {
      let t = ''
      res.on('data', (c) => { t += c })
      res.on('end', () => resolve(t))
    })
    req.on('error', reject)
    req.write('one,')
    setTimeout(() => req.end('two'), 20)
  })
  assert.equal(text, 'chunked one,two')
})

test('the chunked decoder takes its input one byte at a time', () => {
  const wire = Buffer.from('4\r\nWiki\r\n5;a=b\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: x\r\n\r\nNEXT')
  const d = new ChunkedDecoder()
  const out: Buffer[] = []
  let end = -1
  for (let i = 0; i < wire.length && end === -1; i++) {
    const r = d.execute(wire.subarray(i, i + 1), 0, { data: (c) => out.push(Buffer.from(c)) })
    if (r !== -1) end = i + r
  }
  assert.equal(Buffer.concat(out).toString(), 'Wikipedia in\r\n\r\nchunks.')
  assert.equal(wire.subarray(end).toString(), 'NEXT')
})

test('response heads: framing, keep-alive and repeated headers', () => {
  const h = parseResponseHead('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 3\r\nKeep-Alive: timeout=5', 'GET')
  assert.deepEqual(h.headers['set-cookie'], ['a=1', 'b=2'])
  assert.equal(h.framing, 'length')
  assert.equal(h.length, 3)
  assert.equal(h.keepAlive, true)
  assert.equal(h.keepAliveTimeout, 5000)
  assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nContent-Length: 1', 'GET').keepAlive, false)
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1', 'GET').keepAlive, false)
  assert.equal(parseResponseHead('HTTP/1.1 200 OK', 'GET').framing, 'close')
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked', 'GET').framing, 'chunked')
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'GET').framing, 'chunked')
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked', 'GET').framing, 'chunked')
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip', 'GET').framing, 'close')
  // Connection and Keep-Alive values, the common spelling and the others (remembered values too).
  assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1', 'GET').keepAlive, true)
  assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1', 'GET').keepAlive, true)
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 1', 'GET').keepAlive, false)
  for (let i = 0; i < 2; i++) {
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 1', 'GET').keepAliveTimeout, 5000)
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: max=100, Timeout = 30\r\nContent-Length: 1', 'GET').keepAliveTimeout, 30000)
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: max=100\r\nContent-Length: 1', 'GET').keepAliveTimeout, 0)
  }
  assert.equal(parseResponseHead('HTTP/1.1 200', 'GET').status, 200)
  assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\n folded: x', 'GET'), /header name/)
})

test("client: 'undici' still carries http targets through undici; other values are a ConfigError", async () => {
  const up = await startUpstream((_req, res) => res.end('via undici'))
  cleanup.push(() => up.close())
  const pools = createUpstreamPools({ app: { targets: [up.address], client: 'undici' } }, { startHealthChecks: false, env: {} })
  cleanup.push(() => pools.close(false))
  assert.equal(pools.get('app')!.members()[0]!.transport.client, 'undici')
  const e = await startEdge(createProxyAction(pools.get('app')!))
  cleanup.push(() => e.close())
  assert.equal((await request(`${e.url}/`)).body, 'via undici')
  assert.throws(() => createUpstreamPools({ app: { targets: [up.address], client: 'curl' } }, { env: {} }), /edge\.upstreams\.app\.client/)
})

test('a request head that would be corrupted (CR/LF or a control in a value, a bad name) is refused with 400 and never sent', async () => {
  const up = await rawUpstream((sock) => { sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') })
  const pools = createUpstreamPools({ app: { targets: [up.address], maxFails: 0 } }, { startHealthChecks: false, env: {} })
  cleanup.push(() => pools.close(false))
  const extra: Record<string, string> = {
    '/split': 'a\r\nx-injected: 1',
    '/lf': 'a\nb',
    '/nul': 'a\0b',
  }
  const e = await startEdge(createProxyAction(pools.get('app')!, {
    requestHeaders: (ctx, headers) => {
      if (ctx.path === '/name') headers['bad name'] = 'x'
      else if (ctx.path === '/list') headers['x-list'] = ['fine', 'not\rfine']
      else if (extra[ctx.path] !== undefined) headers['x-extra'] = extra[ctx.path]!
      else headers['x-extra'] = 'fine\tvalue'
    },
  }))
  cleanup.push(() => e.close())
  for (const path of [...Object.keys(extra), '/name', '/list']) {
    const r = await request(`${e.url}${path}`)
    assert.equal(r.status, 400, path)
  }
  assert.equal(up.heads.length, 0)
  const ok = await request(`${e.url}/ok`)
  assert.equal(ok.status, 200)
  assert.match(up.heads[0]!, /\r\nx-extra: fine\tvalue\r\n/)
})
