import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { gunzipSync, gzipSync, brotliDecompressSync, createGunzip, createBrotliDecompress } from 'node:zlib'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '../../src/web/test-client.ts'
import { html, stream, HttpResponse } from '../../src/web/response.ts'
import { fileResponse } from '../../src/web/file-response.ts'
import { gzipMiddleware } from '../../src/web/middleware/gzip.ts'
import { negotiateEncoding } from '../../src/web/middleware/accept-encoding.ts'
import { testApp, serve } from './support.ts'

const PAGE = '<!doctype html><title>Shop</title>' + '<li class="product">Café crème — 4.20 €</li>\n'.repeat(400)
// Over 64 KB: compressed on the thread pool instead of inline.
const BIG = Array.from({ length: 4000 }, (_, i) => `<tr><td>${i}</td><td>${(i * 7919) % 1000}</td></tr>`).join('\n')
const dir = mkdtempSync(join(tmpdir(), 'cw-gzip-'))
const filePath = join(dir, 'page.html')
writeFileSync(filePath, PAGE)

let release: () => void = () => {}
const gate = () => new Promise<void>((r) => { release = r })

const { app } = testApp([
  { route: 'page', view: () => html(PAGE) },
  { route: 'big', view: () => html(BIG) },
  { route: 'tiny', view: () => html('<p>small</p>') },
  { route: 'etag', view: () => html(PAGE, { headers: { etag: '"v1"' } }) },
  { route: 'encoded', view: () => new HttpResponse(Buffer.from('x'.repeat(500)), { headers: { 'content-encoding': 'identity-custom' } }) },
  { route: 'png', view: () => new HttpResponse(Buffer.alloc(5000), { headers: { 'content-type': 'image/png' } }) },
  { route: 'partial', view: () => html(PAGE, { status: 206 }) },
  { route: 'random', view: () => new HttpResponse(randomBytes(400), { headers: { 'content-type': 'application/x-thing' } }) },
  { route: 'file', view: (req) => fileResponse(req, filePath) },
  {
    route: 'stream', view: () => stream((async function* () {
      yield '<html><body><h1>first part</h1>'
      await gate() // the rest is produced only after the client has seen the first part
      yield '<p>second part</p></body></html>'
    })(), { contentType: 'text/html; charset=utf-8' }),
  },
  {
    route: 'broken', view: () => stream((async function* () {
      yield '<p>' + 'partial '.repeat(100)
      throw new Error('the generator failed mid-stream')
    })(), { contentType: 'text/html' }),
  },
], { middleware: [gzipMiddleware] })
const client = new Client(app)
after(() => client.close())

test('negotiation: q-values, *, identity, brotli off', () => {
  assert.equal(negotiateEncoding('gzip, deflate, br', true), 'br')
  assert.equal(negotiateEncoding('gzip, deflate, br', false), 'gzip')
  assert.equal(negotiateEncoding('br;q=0.5, gzip', true), 'gzip')
  assert.equal(negotiateEncoding('gzip;q=0, br;q=0', true), null)
  assert.equal(negotiateEncoding('*', true), 'br')
  assert.equal(negotiateEncoding('*;q=0.1, br;q=0', true), 'gzip')
  assert.equal(negotiateEncoding('identity', true), null)
  assert.equal(negotiateEncoding('GZIP;Q=0.8', true), 'gzip')
  assert.equal(negotiateEncoding('gzip;q=abc', true), null)
  assert.equal(negotiateEncoding(undefined, true), null)
})

test('gzip and br bodies decode back to the original, with Vary and a fixed Content-Length', async () => {
  const gz = await client.get('/page', { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.equal(gz.headers.vary, 'Accept-Encoding')
  assert.equal(Number(gz.headers['content-length']), gz.body.length)
  assert.ok(gz.body.length < Buffer.byteLength(PAGE) / 5)
  assert.equal(gunzipSync(gz.body).toString(), PAGE)

  const br = await client.get('/page', { headers: { 'accept-encoding': 'gzip, deflate, br' } })
  assert.equal(br.headers['content-encoding'], 'br')
  assert.equal(br.headers.vary, 'Accept-Encoding')
  assert.equal(brotliDecompressSync(br.body).toString(), PAGE)

  const plain = await client.get('/page')
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal(plain.headers.vary, 'Accept-Encoding', 'caches must know the body depends on the header')
  assert.equal(plain.text, PAGE)
})

test('large bodies (compressed off the event loop) decode back too', async () => {
  assert.ok(Buffer.byteLength(BIG) > 64 * 1024)
  const gz = await client.get('/big', { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.equal(Number(gz.headers['content-length']), gz.body.length)
  assert.equal(gunzipSync(gz.body).toString(), BIG)
  const br = await client.get('/big', { headers: { 'accept-encoding': 'br' } })
  assert.equal(brotliDecompressSync(br.body).toString(), BIG)
})

test('tiny, already-encoded, incompressible, 206 and HEAD responses are left alone', async () => {
  const ae = { 'accept-encoding': 'gzip, br' }
  const tiny = await client.get('/tiny', { headers: ae })
  assert.equal(tiny.headers['content-encoding'], undefined)
  assert.equal(tiny.text, '<p>small</p>')
  const enc = await client.get('/encoded', { headers: ae })
  assert.equal(enc.headers['content-encoding'], 'identity-custom')
  assert.equal(enc.body.length, 500)
  assert.equal((await client.get('/png', { headers: ae })).headers['content-encoding'], undefined)
  assert.equal((await client.get('/partial', { headers: ae })).headers['content-encoding'], undefined)
  const head = await client.head('/page', { headers: ae })
  assert.equal(head.headers['content-encoding'], undefined)
  assert.equal(Number(head.headers['content-length']), Buffer.byteLength(PAGE))
  // A body that would grow is sent as is (Django's rule).
  const rnd = await client.get('/random', { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(rnd.headers['content-encoding'], undefined)
  assert.equal(rnd.body.length, 400)
})

test('a strong ETag is weakened on compressed responses only', async () => {
  const gz = await client.get('/etag', { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(gz.headers.etag, 'W/"v1"')
  const plain = await client.get('/etag')
  assert.equal(plain.headers.etag, '"v1"')
})

test('file responses are compressed as a stream', async () => {
  const res = await client.get('/file', { headers: { 'accept-encoding': 'br' } })
  assert.equal(res.headers['content-encoding'], 'br')
  assert.equal(res.headers['content-length'], undefined)
  assert.equal(res.headers['accept-ranges'], undefined)
  assert.match(res.headers.etag!, /^W\//)
  assert.equal(brotliDecompressSync(res.body).toString(), PAGE)
  const plain = await client.get('/file')
  assert.equal(plain.headers['accept-ranges'], 'bytes')
})

for (const coding of ['gzip', 'br'] as const) {
  test(`streaming (${coding}): the first part arrives decoded before the stream ends`, { timeout: 20_000 }, async () => {
    const srv = await serve(app)
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ port: srv.port, host: '127.0.0.1', path: '/stream', headers: { host: 'localhost', 'accept-encoding': coding } }, resolve).on('error', reject)
      })
      assert.equal(res.headers['content-encoding'], coding)
      assert.equal(res.headers['transfer-encoding'], 'chunked')
      const decoder = coding === 'gzip' ? createGunzip() : createBrotliDecompress()
      res.pipe(decoder)
      let text = ''
      let released = false
      for await (const chunk of decoder) {
        text += chunk
        // The view is still waiting on the gate: this data can only come from a flushed first part.
        if (!released && text.includes('first part</h1>')) { released = true; release() }
      }
      assert.ok(released, 'the first part was readable before the view finished')
      assert.equal(text, '<html><body><h1>first part</h1><p>second part</p></body></html>')
    } finally {
      await srv.close()
    }
  })
}

test('settings: brotli off, and bad levels are config errors', async () => {
  const { app: noBr } = testApp([{ route: 'page', view: () => html(PAGE) }], { middleware: [gzipMiddleware], settings: { BROTLI_ENABLED: false } })
  const c = new Client(noBr)
  try {
    const res = await c.get('/page', { headers: { 'accept-encoding': 'br, gzip' } })
    assert.equal(res.headers['content-encoding'], 'gzip')
  } finally { await c.close() }
  assert.throws(() => testApp([], { middleware: [gzipMiddleware], settings: { GZIP_LEVEL: 12 } }), /GZIP_LEVEL/)
})

test('a stream that fails mid-way cuts the connection (no hang, no crash); the app keeps serving', { timeout: 20_000 }, async () => {
  const srv = await serve(app)
  try {
    const outcome = await new Promise<string>((resolve) => {
      http.get({ port: srv.port, host: '127.0.0.1', path: '/broken', headers: { host: 'localhost', 'accept-encoding': 'gzip' } }, (res) => {
        res.on('data', () => {})
        res.on('end', () => resolve('ended'))
        res.on('error', () => resolve('aborted'))
        res.on('aborted', () => resolve('aborted'))
      }).on('error', () => resolve('aborted'))
    })
    assert.equal(outcome, 'aborted', 'a truncated gzip body must not look complete')
    const ok = await client.get('/page', { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(gunzipSync(ok.body).toString(), PAGE)
  } finally {
    await srv.close()
  }
})

test('gzip: bodies of every size class round-trip (small ones use a window sized to them)', async () => {
  const { compressResponse } = await import('../../src/web/middleware/gzip.ts')
  for (const size of [201, 511, 512, 513, 2000, 4097, 16 * 1024 - 1, 16 * 1024, 40_000]) {
    // Text with repeats far apart: a window smaller than the body would miss them but still decode.
    const body = Array.from({ length: size }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('')
    const res = new HttpResponse(body, { headers: { 'content-type': 'text/html' } })
    const req = { method: 'GET', header: (n: string) => (n === 'accept-encoding' ? 'gzip' : undefined) } as never
    const out = await compressResponse(req, res, { minLength: 200, level: 1, quality: 4, brotli: false })
    assert.equal(out.headers['content-encoding'], 'gzip', `size ${size} compressed`)
    assert.equal(gunzipSync(out.body as Buffer).toString(), body, `size ${size} round-trips`)
    assert.ok((out.body as Buffer).byteLength < size / 4, `size ${size} compresses well`)
  }
})

test('gzip engine: a reused stream gives exactly what a fresh gzipSync gives, body after body (nothing carried over)', async () => {
  const { gzipBody } = await import('../../src/web/middleware/gzip-engine.ts')
  const bodies = [
    Buffer.from(PAGE), Buffer.from('x'), Buffer.alloc(0), randomBytes(64 * 1024), // incompressible: stored blocks
    Buffer.from(BIG.slice(0, 60_000)), Buffer.from('<p>' + 'é'.repeat(3000) + '</p>'), Buffer.from(PAGE),
  ]
  for (const level of [1, 6]) {
    for (const [i, b] of bodies.entries()) {
      const out = gzipBody(b, level, { level })
      assert.ok(gunzipSync(out).equals(b), `level ${level}, body ${i} round-trips`)
      assert.ok(out.equals(gzipSync(b, { level })), `level ${level}, body ${i}: the same bytes as a fresh stream`)
    }
  }
})
