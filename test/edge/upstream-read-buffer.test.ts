// The edge's upstream client reads into a buffer it reuses (src/edge/upstream/h1-connection.ts):
// a body chunk handed on must not be overwritten by the next read while a write, a cork or a
// compressor still holds it. Large, varied bodies to slow clients, with and without
// Content-Length and with compression, must arrive byte for byte.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { startEdge } from './front-support.ts'

const BINARY = randomBytes(6 * 1024 * 1024)
const TEXT = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `line ${i}: ${(i * 2654435761 % 4294967296).toString(36)}\n`).join(''))
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Writes `body` in uneven pieces, waiting for drain, so reads at the edge split it unevenly too. */
function send(res: http.ServerResponse, body: Buffer): void {
  let at = 0
  let step = 1
  const pump = () => {
    while (at < body.length) {
      const n = Math.min(body.length - at, 1000 + ((step++ * 7919) % 90_000))
      const ok = res.write(body.subarray(at, at + n))
      at += n
      if (!ok) { res.once('drain', pump); return }
    }
    res.end()
  }
  pump()
}

/** GET through the edge, reading slowly (a pause every few chunks), the whole body returned. */
function slowGet(url: string, headers: Record<string, string> = {}): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers, agent: false }, (res) => {
      const parts: Buffer[] = []
      let n = 0
      res.on('data', (c: Buffer) => {
        parts.push(c)
        if (++n % 5 === 0) { res.pause(); setTimeout(() => res.resume(), 3) }
      })
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }))
      res.on('error', reject)
    }).on('error', reject)
  })
}

test('large bodies reach slow clients intact through the reused read buffer', { timeout: 120_000 }, async (t) => {
  const up = http.createServer((req, res) => {
    if (req.url === '/length') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BINARY.length })
      send(res, BINARY)
    } else if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      send(res, BINARY)
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' })
      send(res, TEXT)
    }
  })
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => { up.closeAllConnections(); up.close(() => r()) }))
  const port = (up.address() as { port: number }).port
  const edge = await startEdge(t, {
    listen: [{ host: '127.0.0.1', port: 0 }],
    accessLog: { format: 'off' },
    upstreams: { app: { targets: [`http://127.0.0.1:${port}`], keepalive: { connections: 2 } } },
    routes: [{ name: 'app', action: { proxy: { pool: 'app' } } }],
  })
  const base = edge.addresses[0]!.url
  // Several at once over two upstream connections: reads of different responses interleave.
  const [a, b, c, d] = await Promise.all([
    slowGet(`${base}/length`), slowGet(`${base}/chunked`), slowGet(`${base}/text`, { 'accept-encoding': 'gzip' }), slowGet(`${base}/length`),
  ])
  assert.equal(sha(a.body), sha(BINARY))
  assert.equal(sha(b.body), sha(BINARY))
  assert.equal(sha(d.body), sha(BINARY))
  assert.equal(c.headers['content-encoding'], 'gzip')
  assert.equal(sha(gunzipSync(c.body)), sha(TEXT))
})
