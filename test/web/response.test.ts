import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Client } from '../../src/web/test-client.ts'
import { html, json, text, redirect, stream, HttpResponse } from '../../src/web/response.ts'
import { fileResponse, parseRange } from '../../src/web/file-response.ts'
import { serializeCookie } from '../../src/web/cookies.ts'
import { Signer, BadSignature, SignatureExpired } from '../../src/web/signing.ts'
import { testApp } from './support.ts'
import type { HttpRequest } from '../../src/web/request.ts'

const dir = mkdtempSync(join(tmpdir(), 'cw-file-test-'))
const file = join(dir, 'data.txt')
writeFileSync(file, '0123456789abcdefghij')
utimesSync(file, new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'))

const routes = [
  { route: 'html/', view: () => html('<p>hé</p>', { status: 201, headers: { 'X-Extra': 'yes' } }) },
  { route: 'json/', view: () => json({ a: 1 }) },
  { route: 'text/', view: () => text('plain') },
  { route: 'r/<code>/', view: (_req: HttpRequest, p: { code: string }) => redirect('/target/?x=1', Number(p.code)) },
  { route: 'stream/', view: () => stream((async function* () { yield 'one,'; yield Buffer.from('two,'); yield 'three' })(), { contentType: 'text/csv' }) },
  { route: 'readable/', view: () => stream(Readable.from(['a', 'b'])) },
  { route: 'boom-stream/', view: () => stream((async function* () { yield 'partial'; throw new Error('stream broke') })()) },
  { route: 'file/', view: (req: HttpRequest) => fileResponse(req, file) },
  { route: 'download/', view: (req: HttpRequest) => fileResponse(req, file, { attachment: 'report été.txt' }) },
  { route: 'missing/', view: (req: HttpRequest) => fileResponse(req, join(dir, 'nope.txt')) },
  {
    route: 'cookies/',
    view: () => new HttpResponse('ok')
      .setCookie('plain', 'v 1')
      .setCookie('strict', 'x', { sameSite: 'Strict', secure: true, httpOnly: false, maxAge: 60, domain: '.example.com', path: '/shop' })
      .deleteCookie('old'),
  },
  { route: 'sign/', view: (req: HttpRequest) => new HttpResponse('ok').setSignedCookie(req, 'cart', '42', { salt: 'shop' }) },
  { route: 'read-signed/', view: (req: HttpRequest) => json({ cart: req.signedCookie('cart', { salt: 'shop' }) ?? null, old: req.signedCookie('cart', { salt: 'shop', maxAge: -1 }) ?? null }) },
]

test('html, json, text and redirects', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    const h = await c.get('/html/')
    assert.equal(h.status, 201)
    assert.equal(h.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(h.headers['x-extra'], 'yes')
    assert.equal(h.headers['content-length'], String(Buffer.byteLength('<p>hé</p>')))
    assert.equal(h.text, '<p>hé</p>')
    const j = await c.get('/json/')
    assert.equal(j.headers['content-type'], 'application/json')
    assert.deepEqual(j.json(), { a: 1 })
    assert.equal((await c.get('/text/')).headers['content-type'], 'text/plain; charset=utf-8')
    for (const code of [301, 302, 307, 308]) {
      const r = await c.get(`/r/${code}/`)
      assert.equal(r.status, code)
      assert.equal(r.headers.location, '/target/?x=1')
    }
    assert.throws(() => redirect('/x', 200), /redirect status/)
    assert.throws(() => redirect('/x\r\nSet-Cookie: a=b'), /control character/)
    const head = await c.head('/html/')
    assert.equal(head.status, 201)
    assert.equal(head.text, '')
  } finally {
    await c.close()
  }
})

test('streaming responses are chunked; a stream that fails mid-way cuts the connection and is logged', async () => {
  const { app, logger } = testApp(routes)
  const c = new Client(app)
  try {
    const s = await c.get('/stream/')
    assert.equal(s.headers['transfer-encoding'], 'chunked')
    assert.equal(s.headers['content-type'], 'text/csv')
    assert.equal(s.text, 'one,two,three')
    assert.equal((await c.get('/readable/')).text, 'ab')
    await assert.rejects(c.get('/boom-stream/'))
    assert.ok(logger.records.some((r) => r.level === 'error' && /stream broke/.test(String((r.error as Error)?.message))))
    assert.equal((await c.get('/text/')).status, 200)
  } finally {
    await c.close()
  }
})

test('file responses: ETag, Last-Modified, 304, Range 206/416, If-Range, HEAD, 404', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    const full = await c.get('/file/')
    assert.equal(full.status, 200)
    assert.equal(full.text, '0123456789abcdefghij')
    assert.equal(full.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(full.headers['accept-ranges'], 'bytes')
    assert.equal(full.headers['last-modified'], 'Tue, 02 Jan 2024 03:04:05 GMT')
    const etag = full.headers.etag!
    assert.match(etag, /^"[0-9a-f]+-14"$/)
    assert.equal((await c.get('/file/', { headers: { 'if-none-match': etag } })).status, 304)
    assert.equal((await c.get('/file/', { headers: { 'if-none-match': `"other", W/${etag}` } })).status, 304)
    assert.equal((await c.get('/file/', { headers: { 'if-none-match': '"other"' } })).status, 200)
    assert.equal((await c.get('/file/', { headers: { 'if-modified-since': 'Tue, 02 Jan 2024 03:04:05 GMT' } })).status, 304)
    assert.equal((await c.get('/file/', { headers: { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' } })).status, 200)
    const part = await c.get('/file/', { headers: { range: 'bytes=2-5' } })
    assert.equal(part.status, 206)
    assert.equal(part.text, '2345')
    assert.equal(part.headers['content-range'], 'bytes 2-5/20')
    assert.equal(part.headers['content-length'], '4')
    assert.equal((await c.get('/file/', { headers: { range: 'bytes=-3' } })).text, 'hij')
    assert.equal((await c.get('/file/', { headers: { range: 'bytes=15-' } })).text, 'fghij')
    const unsat = await c.get('/file/', { headers: { range: 'bytes=50-60' } })
    assert.equal(unsat.status, 416)
    assert.equal(unsat.headers['content-range'], 'bytes */20')
    assert.equal((await c.get('/file/', { headers: { range: 'bytes=0-1,4-5' } })).status, 200)
    assert.equal((await c.get('/file/', { headers: { range: 'bytes=0-1', 'if-range': '"stale"' } })).status, 200)
    assert.equal((await c.get('/file/', { headers: { range: 'bytes=0-1', 'if-range': etag } })).status, 206)
    const head = await c.head('/file/')
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], '20')
    assert.equal(head.text, '')
    const dl = await c.get('/download/')
    assert.match(String(dl.headers['content-disposition']), /^attachment; filename="report _t_.txt"; filename\*=UTF-8''report%20%C3%A9t%C3%A9\.txt$/)
    assert.equal((await c.get('/missing/')).status, 404)
  } finally {
    await c.close()
  }
})

test('parseRange edge cases', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), [0, 0])
  assert.deepEqual(parseRange('bytes=5-100', 10), [5, 9])
  assert.deepEqual(parseRange('bytes=-100', 10), [0, 9])
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable')
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable')
  assert.equal(parseRange('bytes=5-2', 10), null)
  assert.equal(parseRange('items=0-1', 10), null)
})

test('cookies: defaults HttpOnly + SameSite=Lax + Path=/, every attribute, deletion', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    const r = await c.get('/cookies/')
    const [plain, strict, old] = r.headers['set-cookie']!
    assert.equal(plain, 'plain=v%201; Path=/; HttpOnly; SameSite=Lax')
    assert.match(strict!, /^strict=x; Max-Age=60; Expires=[^;]+ GMT; Path=\/shop; Domain=\.example\.com; Secure; SameSite=Strict$/)
    assert.match(old!, /^old=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; HttpOnly; SameSite=Lax$/)
    assert.throws(() => serializeCookie('bad name', 'x'), /Invalid cookie name/)
    assert.throws(() => serializeCookie('a', 'x', { domain: 'x;y' }), /Invalid cookie domain/)
    assert.match(serializeCookie('a', 'b', { sameSite: 'None' }), /; Secure; HttpOnly; SameSite=None$/)
  } finally {
    await c.close()
  }
})

test('signed cookies: round trip, tampering rejected, max age enforced, other keys refused', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    await c.get('/sign/')
    const value = c.cookies.get('cart')!
    assert.match(value, /^42/)
    assert.deepEqual((await c.get('/read-signed/')).json(), { cart: '42', old: null })
    const decoded = decodeURIComponent(value)
    for (const forged of [decoded.replace(/^42/, '43'), decoded.slice(0, -1) + (decoded.endsWith('A') ? 'B' : 'A'), '42', '']) {
      c.cookies.set('cart', encodeURIComponent(forged))
      assert.deepEqual((await c.get('/read-signed/')).json(), { cart: null, old: null }, `forged ${forged}`)
    }
  } finally {
    await c.close()
  }
  const { app: other } = testApp(routes, { settings: { SECRET_KEY: 'another-key-entirely-0123456789' } })
  const c2 = new Client(other)
  try {
    c2.cookies.set('cart', (() => { const s = new Signer({ key: 'test-secret-key-0123456789abcdef', salt: 'x' }); return encodeURIComponent(s.sign('42')) })())
    assert.deepEqual((await c2.get('/read-signed/')).json(), { cart: null, old: null })
  } finally {
    await c2.close()
  }
})

test('Signer: salts separate purposes, fallback keys verify, timestamps expire', () => {
  const a = new Signer({ key: 'k1', salt: 'one' })
  const signed = a.sign('hello')
  assert.equal(a.unsign(signed), 'hello')
  assert.throws(() => new Signer({ key: 'k1', salt: 'two' }).unsign(signed), BadSignature)
  assert.equal(new Signer({ key: 'k2', fallbackKeys: ['k1'], salt: 'one' }).unsign(signed), 'hello')
  assert.throws(() => new Signer({ key: 'k2', salt: 'one' }).unsign(signed), BadSignature)
  const t = a.sign('v:with:colons', { timestamp: true })
  assert.equal(a.unsign(t, { maxAge: 10 }), 'v:with:colons')
  assert.throws(() => a.unsign(t, { maxAge: -1 }), SignatureExpired)
  assert.throws(() => a.unsign('nosep'), BadSignature)
})

test('a response is not a thenable: awaiting it (or resolving a promise with it) gives the response; its keys are unchanged', async () => {
  const res = text('hi')
  assert.equal(await Promise.resolve(res), res)
  assert.equal(await (async () => res)(), res)
  assert.equal((res as unknown as { then?: unknown }).then, undefined)
  assert.deepEqual(Object.keys(res).sort(), ['body', 'headers', 'status'])
  assert.deepEqual(JSON.parse(JSON.stringify(res)), { body: 'hi', status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } })
})
