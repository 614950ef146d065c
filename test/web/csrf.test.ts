// CSRF: masked tokens, cookie and session storage, form field and header, Origin and Referer
// checks, trusted origins, csrfExempt, the 403 page with its reason, laziness.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createApp } from '../../src/web/app.ts'
import { Client } from '../../src/web/test-client.ts'
import { path } from '../../src/web/urls/index.ts'
import { html, json } from '../../src/web/response.ts'
import { memoryLogger } from '../../src/web/log.ts'
import { render } from '../../src/web/templates/render.ts'
import { csrfMiddleware } from '../../src/web/csrf/middleware.ts'
import { csrfExempt, ensureCsrfCookie } from '../../src/web/csrf/decorators.ts'
import { getCsrfToken } from '../../src/web/csrf/state.ts'
import { maskSecret, newSecret, tokenMatches, unmaskToken } from '../../src/web/csrf/tokens.ts'
import { createSessionMiddleware } from '../../src/web/sessions/middleware.ts'
import { SignedCookieSessionStore } from '../../src/web/sessions/signed-cookie-store.ts'

const SECRET = 'c'.repeat(40)

function app(settings: Record<string, unknown> = {}, withSession = false) {
  return createApp({
    urls: [
      path('form/', (req) => render(req, 'form.html')),
      path('plain/', () => html('no token here')),
      path('token/', (req) => json({ token: getCsrfToken(req) })),
      path('submit/', async () => html('accepted')),
      path('hook/', csrfExempt(async () => html('hooked'))),
      path('ensure/', ensureCsrfCookie(() => html('cookie please'))),
    ],
    middleware: [...(withSession ? [createSessionMiddleware({ store: new SignedCookieSessionStore({ SECRET_KEY: SECRET }) })] : []), csrfMiddleware],
    settings: { SECRET_KEY: SECRET, ALLOWED_HOSTS: ['localhost', 'app.example.com'], TEMPLATE_DIRS: [new URL('./auth-templates/', import.meta.url).pathname], ...settings },
    logger: memoryLogger(),
  })
}

const tokenIn = (text: string) => /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(text)?.[1]

test('tokens: masked differently each time, all carry the same secret', () => {
  const s = newSecret()
  assert.match(s, /^[a-zA-Z0-9]{32}$/)
  const a = maskSecret(s)
  const b = maskSecret(s)
  assert.notEqual(a, b)
  assert.equal(a.length, 64)
  assert.equal(unmaskToken(a), s)
  assert.equal(tokenMatches(b, s), true)
  assert.equal(tokenMatches(maskSecret(newSecret()), s), false)
})

test('tokens: fresh masks across many pool refills, each one Django-compatible', () => {
  // Django's algorithm, written out independently: cipher[i] = (secret[i] + mask[i]) mod 62.
  const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const djangoUnmask = (t: string) => Array.from(t.slice(32), (c, i) => CHARS[(CHARS.indexOf(c) - CHARS.indexOf(t[i]!) + 62) % 62]).join('')
  const s = newSecret()
  const seen = new Set<string>()
  const counts = new Map<string, number>()
  for (let i = 0; i < 2000; i++) { // ~64 random bytes each: dozens of 4 KB refills
    const t = maskSecret(s)
    assert.match(t, /^[a-zA-Z0-9]{64}$/)
    assert.equal(djangoUnmask(t), s)
    assert.equal(unmaskToken(t), s)
    seen.add(t.slice(0, 32))
    for (const c of t.slice(0, 32)) counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  assert.equal(seen.size, 2000, 'no mask repeats')
  // 64,000 mask characters over 62 symbols: ~1032 each; a skewed or stuck source would be far off.
  assert.equal(counts.size, 62)
  for (const [c, n] of counts) assert.ok(n > 800 && n < 1300, `mask character ${c} appears ${n} times`)
  assert.equal(unmaskToken('a'.repeat(32) + s), s, 'mask of zeros leaves the secret as is')
})

test('cookie storage: lazy cookie, form field and header accepted, every failure a 403 with its reason', async () => {
  const client = new Client(app({ CSRF_TRUSTED_ORIGINS: ['https://*.trusted.example', 'http://partner.example'] }))
  try {
    let r = await client.get('/plain/')
    assert.equal(r.headers['set-cookie'], undefined, 'no token used → no cookie')
    r = await client.post('/submit/', { form: { a: '1' } })
    assert.equal(r.status, 403)
    assert.match(r.text, /CSRF cookie not set\./)
    r = await client.get('/form/')
    const token = tokenIn(r.text)!
    assert.ok(token && token.length === 64)
    const cookie = (r.headers['set-cookie'] as string[]).find((c) => c.startsWith('csrftoken='))!
    assert.match(cookie, /SameSite=Lax/)
    assert.doesNotMatch(cookie, /HttpOnly/, 'scripts may read it by default')
    assert.match(String(r.headers.vary), /Cookie/)
    const secret = client.cookies.get('csrftoken')!
    assert.notEqual(token, secret, 'the page shows a masked token, not the secret')
    const again = tokenIn((await client.get('/form/')).text)!
    assert.notEqual(again, token, 'a new mask per page (BREACH)')

    r = await client.post('/submit/', { form: { a: '1' } })
    assert.equal(r.status, 403)
    assert.match(r.text, /CSRF token missing\./)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: token } })
    assert.equal(r.status, 200)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: again }, headers: {} })
    assert.equal(r.status, 200, 'any mask of the secret works')
    r = await client.post('/submit/', { json: { x: 1 }, headers: { 'x-csrftoken': token } })
    assert.equal(r.status, 200, 'the header for scripts')
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: maskSecret(newSecret()) } })
    assert.equal(r.status, 403)
    assert.match(r.text, /CSRF token incorrect\./)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: 'short' } })
    assert.match(r.text, /CSRF token has incorrect length\./)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: '!'.repeat(64) } })
    assert.match(r.text, /CSRF token has invalid characters\./)
    for (const m of ['PUT', 'PATCH', 'DELETE']) {
      assert.equal((await client.request(m, '/submit/')).status, 403, m)
      assert.equal((await client.request(m, '/submit/', { headers: { 'x-csrftoken': token } })).status, 200, m)
    }

    // Origin: own, trusted (exact and wildcard), foreign
    assert.equal((await client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers: { origin: 'http://localhost' } })).status, 200)
    assert.equal((await client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers: { origin: 'http://partner.example' } })).status, 200)
    assert.equal((await client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers: { origin: 'https://a.trusted.example' } })).status, 200)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers: { origin: 'https://evil.example' } })
    assert.equal(r.status, 403)
    assert.match(r.text, /Origin checking failed - https:\/\/evil.example does not match any trusted origins\./)
    r = await client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers: { origin: 'null' } })
    assert.equal(r.status, 403)

    // exempt views and safe methods pass; ensureCsrfCookie sets the cookie without a template
    assert.equal((await client.post('/hook/', { form: {}, headers: { cookie: '' } })).status, 200)
    const fresh = new Client(app())
    r = await fresh.get('/ensure/')
    assert.ok((r.headers['set-cookie'] as string[]).some((c) => c.startsWith('csrftoken=')))
    await fresh.close()
  } finally {
    await client.close()
  }
})

test('HTTPS without Origin: the Referer must be present, https and trusted', async () => {
  const client = new Client(app({ CSRF_TRUSTED_ORIGINS: ['https://shop.example'] }), { secure: true })
  try {
    const token = tokenIn((await client.get('/form/')).text)!
    const post = (headers: Record<string, string>) => client.post('/submit/', { form: { csrfmiddlewaretoken: token }, headers })
    let r = await post({})
    assert.match(r.text, /Referer checking failed - no Referer\./)
    r = await post({ referer: 'not a url' })
    assert.match(r.text, /Referer checking failed - Referer is malformed\./)
    r = await post({ referer: 'http://localhost/form/' })
    assert.match(r.text, /Referer checking failed - Referer is insecure while host is secure\./)
    r = await post({ referer: 'https://evil.example/x' })
    assert.match(r.text, /Referer checking failed - https:\/\/evil.example\/x does not match any trusted origins\./)
    assert.equal((await post({ referer: 'https://localhost/form/' })).status, 200)
    assert.equal((await post({ referer: 'https://shop.example/cart/' })).status, 200)
    assert.equal((await post({ origin: 'https://localhost' })).status, 200, 'Origin takes precedence')
  } finally {
    await client.close()
  }
})

test('CSRF_USE_SESSIONS keeps the secret in the session, not a cookie; the 403 page explains in DEBUG', async () => {
  const client = new Client(app({ CSRF_USE_SESSIONS: true, DEBUG: true }, true))
  try {
    const r = await client.get('/form/')
    assert.equal(client.cookies.get('csrftoken'), undefined)
    assert.ok(client.cookies.get('sessionid'))
    const token = tokenIn(r.text)!
    assert.equal((await client.post('/submit/', { form: { csrfmiddlewaretoken: token } })).status, 200)
    const bad = await client.post('/submit/', { form: {} })
    assert.equal(bad.status, 403)
    assert.match(bad.text, /CSRF token missing/)
    assert.match(bad.text, /csrfExempt/, 'DEBUG page says how to fix it')
  } finally {
    await client.close()
  }
  assert.throws(() => app({ CSRF_TRUSTED_ORIGINS: ['example.com'] }), /CSRF_TRUSTED_ORIGINS/)
})

test('the CSRF cookie is sent when the secret is new or rotated, not again on every page that uses it (Django 4.1+)', async () => {
  const { getCsrfToken } = await import('../../src/web/csrf/state.ts')
  const app = createApp({
    urls: [path('form/', (req) => html(`<input value="${getCsrfToken(req)}">`))],
    middleware: [csrfMiddleware],
    settings: { SECRET_KEY: 'x'.repeat(40), ALLOWED_HOSTS: ['localhost'] },
  })
  const c = new Client(app)
  try {
    const first = await c.get('/form/')
    const set1 = ([] as string[]).concat(first.headers['set-cookie'] ?? [])
    assert.ok(set1.some((v) => v.startsWith('csrftoken=')), 'a new secret is sent')
    const second = await c.get('/form/')
    const set2 = ([] as string[]).concat(second.headers['set-cookie'] ?? [])
    assert.ok(!set2.some((v) => v.startsWith('csrftoken=')), 'the secret the client holds is not resent')
    assert.match(String(second.headers.vary), /Cookie/, 'a page with a token still varies on Cookie')
    assert.notEqual(/value="([^"]+)"/.exec(first.text)![1], /value="([^"]+)"/.exec(second.text)![1], 'masked afresh per response')
  } finally {
    await c.close()
  }
})
