import { test } from 'node:test'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import assert from 'node:assert/strict'
import { Client } from '../../src/web/test-client.ts'
import { text, json } from '../../src/web/response.ts'
import { hostValidator, splitHostPort } from '../../src/web/hosts.ts'
import { testApp, serve, rawHttp } from './support.ts'
import type { HttpRequest } from '../../src/web/request.ts'
import type { TemplateEngine } from '../../src/web/types.ts'

const routes = [
  { route: 'ok/', view: () => text('ok') },
  { route: 'only-post/', view: () => text('posted'), methods: ['POST', 'PUT'] },
  { route: 'get-only/', view: (req: HttpRequest) => text(`got ${req.method}`), methods: ['GET'] },
  { route: 'slash/', view: (req: HttpRequest) => text(`slash ${req.method}`) },
  { route: 'boom/', view: () => { throw new Error('secret internal detail: db password=hunter2') } },
  { route: 'undefined/', view: (() => undefined) as never },
  { route: 'dne/', view: () => { throw Object.assign(new Error('Product matching query does not exist'), { status: 404 }) } },
  { route: 'echo/', view: (req: HttpRequest) => json({ path: req.path, q: req.queryString, body: null }) },
]

test('404 when nothing matches, 405 with Allow when only the method is wrong, HEAD served by GET views', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    const nf = await c.get('/nothing/here/')
    assert.equal(nf.status, 404)
    assert.match(nf.text, /Not Found/)
    assert.doesNotMatch(nf.text, /only-post/) // the tried patterns are a DEBUG-only detail
    const na = await c.get('/only-post/')
    assert.equal(na.status, 405)
    assert.equal(na.headers.allow, 'POST, PUT')
    assert.equal((await c.post('/only-post/')).text, 'posted')
    const head = await c.head('/get-only/')
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], String('got HEAD'.length))
    const dne = await c.get('/dne/')
    assert.equal(dne.status, 404)
    assert.doesNotMatch(dne.text, /Product matching/) // non-HttpError messages stay internal
  } finally {
    await c.close()
  }
})

test('APPEND_SLASH: 301 to the slash URL keeping the query; no open redirect; POST in DEBUG is a clear error', async () => {
  const { app } = testApp(routes)
  const c = new Client(app)
  try {
    const r = await c.get('/slash?x=1&y=2')
    assert.equal(r.status, 301)
    assert.equal(r.headers.location, '/slash/?x=1&y=2')
    const followed = await c.get('/slash', { follow: true })
    assert.equal(followed.text, 'slash GET')
    assert.deepEqual(followed.redirectChain, [{ url: '/slash/', status: 301 }])
    assert.equal((await c.get('/nope')).status, 404)
    assert.equal((await c.post('/slash')).status, 301) // production mode: Django's behaviour, redirect
  } finally {
    await c.close()
  }
  const { app: open } = testApp([{ route: '/evil.example/', view: () => text('x') }])
  const c3 = new Client(open)
  try {
    const r = await c3.get('//evil.example')
    assert.equal(r.status, 301)
    assert.equal(r.headers.location, '/%2Fevil.example/')
  } finally {
    await c3.close()
  }
  const { app: debug, logger } = testApp(routes, { settings: { DEBUG: true } })
  const c2 = new Client(debug)
  try {
    const p = await c2.post('/slash', { form: { a: '1' } })
    assert.equal(p.status, 500)
    assert.match(p.text, /You called this URL via POST, but the URL doesn(&#39;|')t end in a slash and you have APPEND_SLASH set/)
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 1)
  } finally {
    await c2.close()
  }
  const { app: off } = testApp(routes, { settings: { APPEND_SLASH: false } })
  const c4 = new Client(off)
  try {
    assert.equal((await c4.get('/slash')).status, 404)
  } finally {
    await c4.close()
  }
})

test('Host validation follows Django: exact, .domain, *, ports, trailing dots, DEBUG localhost', () => {
  const v = hostValidator(['example.com', '.shop.test', 'API.Example.org'], false)
  for (const ok of ['example.com', 'example.com:8000', 'EXAMPLE.COM', 'example.com.', 'shop.test', 'a.b.shop.test:443', 'api.example.org']) assert.equal(v(ok), true, ok)
  for (const bad of ['evil.com', 'example.com.evil.com', 'xshop.test', '', 'example.com:80:80', 'exa mple.com', 'example.com/x', '[::1]']) assert.equal(v(bad), false, bad)
  assert.equal(hostValidator(['*'], false)('anything.at.all:1'), true)
  assert.equal(hostValidator(['*'], false)('bad host'), false)
  const dev = hostValidator([], true)
  for (const ok of ['localhost', 'localhost:8000', 'app.localhost', '127.0.0.1:3000', '[::1]:8000']) assert.equal(dev(ok), true, ok)
  assert.equal(dev('example.com'), false)
  assert.equal(hostValidator([], false)('localhost'), false)
  assert.deepEqual(splitHostPort('[::1]:8000'), ['[::1]', '8000'])
})

test('unknown Host → 400 before any middleware runs; the server stays up', async () => {
  let ran = 0
  const { app } = testApp(routes, { settings: { ALLOWED_HOSTS: ['.example.com'] }, middleware: [{ name: 'count', wrap: (next) => (req) => { ran++; return next(req) } }] })
  const srv = await serve(app)
  try {
    const bad = await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n')
    assert.match(bad, /^HTTP\/1\.1 400/)
    assert.match(bad, /Invalid Host header &quot;evil\.test&quot;.*ALLOWED_HOSTS/)
    const malformed = await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: a.example.com@evil\r\nConnection: close\r\n\r\n')
    assert.match(malformed, /^HTTP\/1\.1 400/)
    assert.equal(ran, 0)
    const good = await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: www.example.com:8443\r\nConnection: close\r\n\r\n')
    assert.match(good, /^HTTP\/1\.1 200/)
    assert.equal(ran, 1)
    // The app remembers the last allowed Host: a different one right after it is still checked,
    // and the allowed one still passes after a refusal.
    assert.match(await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/)
    assert.match(await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: www.example.com:8443\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/)
    assert.match(await rawHttp(srv.port, 'GET /ok/ HTTP/1.1\r\nHost: www.example.com.evil\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/)
    assert.equal(ran, 2)
  } finally {
    await srv.close()
  }
})

test('without the journey, handle answers and hands back no promise (nothing waits on it per request)', async () => {
  const { app } = testApp(routes, { middleware: [{ name: 'pass', wrap: (next) => async (req) => await next(req) }] })
  const returned: unknown[] = []
  const server = http.createServer((req, res) => { returned.push(app.handle(req, res)) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  try {
    const port = (server.address() as AddressInfo).port
    assert.match(await rawHttp(port, 'GET /ok/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200[\s\S]*\r\n\r\nok$/)
    assert.match(await rawHttp(port, 'GET /boom/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 500/)
    assert.deepEqual(returned, [undefined, undefined])
  } finally {
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

test('production: a view that throws → plain 500 with the request id, nothing internal, logged once, server alive', async () => {
  const { app, logger } = testApp(routes)
  const c = new Client(app)
  try {
    const r = await c.get('/boom/', { headers: { cookie: 'sessionid=s3cr3t' } })
    assert.equal(r.status, 500)
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(r.headers['cache-control'], 'no-store')
    assert.doesNotMatch(r.text, /hunter2|secret internal|at |\.ts|s3cr3t/)
    const id = /Request id: ([\w-]+)/.exec(r.text)?.[1]
    assert.ok(id, 'the page shows the request id')
    const errors = logger.records.filter((x) => x.level === 'error')
    assert.equal(errors.length, 1)
    assert.equal(errors[0]!.requestId, id)
    assert.match(String((errors[0]!.error as Error).message), /hunter2/)
    const u = await c.get('/undefined/')
    assert.equal(u.status, 500)
    assert.match(String((logger.records.at(-1)!.error as Error).message), /The view for 'undefined\/' returned undefined instead of an HttpResponse/)
    assert.equal((await c.get('/ok/')).text, 'ok')
    const api = await c.get('/boom/', { headers: { accept: 'application/json' } })
    assert.equal(api.status, 500)
    assert.deepEqual(Object.keys(api.json<any>().error).sort(), ['message', 'requestId', 'status'])
  } finally {
    await c.close()
  }
})

test('production: 404.html / 500.html templates override the plain pages when a template engine is configured', async () => {
  const templates: TemplateEngine = {
    has: (name) => name === '404.html' || name === '500.html',
    render: (name, ctx) => name === '404.html' ? `<h1>Custom 404 for ${ctx!.request_path}</h1>` : `<h1>Custom 500 (${ctx!.request_id})</h1>`,
  }
  const { app } = testApp(routes, { templates })
  const c = new Client(app)
  try {
    const nf = await c.get('/missing/')
    assert.equal(nf.status, 404)
    assert.equal(nf.text, '<h1>Custom 404 for /missing/</h1>')
    const e = await c.get('/boom/')
    assert.equal(e.status, 500)
    assert.match(e.text, /^<h1>Custom 500 \([\w-]+\)<\/h1>$/)
    assert.equal((await c.get('/only-post/')).status, 405) // no 405.html: the plain page
  } finally {
    await c.close()
  }
})

test('DEBUG: the 500 page shows the stack and the request with secrets masked; the 404 page lists the patterns tried', async () => {
  const { app } = testApp(routes, { settings: { DEBUG: true } })
  const c = new Client(app)
  try {
    const r = await c.get('/boom/?q=shoes', { headers: { cookie: 'sessionid=s3cr3t; csrftoken=tok3n; theme=dark', authorization: 'Bearer abc', 'x-custom': 'visible' } })
    assert.equal(r.status, 500)
    assert.match(r.text, /secret internal detail/)
    assert.match(r.text, /Traceback/)
    assert.match(r.text, /app\.test\.ts/)
    assert.match(r.text, /shoes/)
    assert.match(r.text, /visible/)
    assert.match(r.text, /theme=dark/)
    assert.doesNotMatch(r.text, /s3cr3t|tok3n|Bearer abc|test-secret-key/)
    assert.match(r.text, /SECRET_KEY<\/th><td><code>••••/)
    const plain = await c.get('/boom/', { headers: { accept: 'text/plain' } })
    assert.equal(plain.headers['content-type'], 'text/plain; charset=utf-8')
    assert.match(plain.text, /^Error at GET \/boom\//)
    const nf = await c.get('/no/such/')
    assert.equal(nf.status, 404)
    assert.match(nf.text, /tried these URL patterns/)
    for (const p of ['ok/', 'only-post/', 'slash/', 'boom/']) assert.ok(nf.text.includes(`<code>${p}</code>`), p)
  } finally {
    await c.close()
  }
})

test('app.fetch adapts WHATWG Request/Response through the same path', async () => {
  const { app } = testApp([...routes, { route: 'post/', view: async (req: HttpRequest) => json({ got: await req.json(), scheme: req.scheme }), methods: ['POST'] }])
  const r = await app.fetch(new Request('http://localhost/echo/?a=1'))
  assert.equal(r.status, 200)
  assert.deepEqual(await r.json(), { path: '/echo/', q: 'a=1', body: null })
  const p = await app.fetch(new Request('https://localhost/post/', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } }))
  assert.deepEqual(await p.json(), { got: { n: 1 }, scheme: 'https' })
  assert.equal((await app.fetch(new Request('http://evil.test/ok/'))).status, 400)
  const nf = await app.fetch(new Request('http://localhost/missing/'))
  assert.equal(nf.status, 404)
})
