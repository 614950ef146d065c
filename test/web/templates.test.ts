import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync, writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { createTemplateEngine, render, TemplateError, TemplateDoesNotExist } from '../../src/web/templates/index.ts'
import { compileUrls, include, path } from '../../src/web/urls/index.ts'
import { text } from '../../src/web/response.ts'
import { makeApp, makeRequest, templateDir } from './templates-support.ts'

const dirs: string[] = []
const tmp = (files: Record<string, string>) => { const d = templateDir(files); dirs.push(d); return d }
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

const urls = compileUrls([
  path('', () => text('home'), { name: 'home' }),
  path('shop/', include([path('products/<slug:slug>/', () => text('p'), { name: 'product' })], { namespace: 'shop' })),
])

test('autoescape is on; |safe opts out', () => {
  const dir = tmp({ 'a.html': '{{ x }}|{{ x | safe }}|{{ y }}' })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.equal(t.render('a.html', { x: '<script>"&\'', y: null }), '&lt;script&gt;&quot;&amp;&#39;|<script>"&\'|')
})

test('inheritance, blocks, super() and includes', () => {
  const dir = tmp({
    'base.html': '<title>{% block title %}Site{% endblock %}</title><main>{% block main %}{% endblock %}</main>{% include "footer.html" %}',
    'footer.html': '<footer>{{ year }}</footer>',
    'shop/product.html': '{% extends "base.html" %}{% block title %}{{ name }} | {{ super() }}{% endblock %}{% block main %}<h1>{{ name }}</h1>{% endblock %}',
  })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.equal(t.render('shop/product.html', { name: 'Lamp & Co', year: 2026 }),
    '<title>Lamp &amp; Co | Site</title><main><h1>Lamp &amp; Co</h1></main><footer>2026</footer>')
})

test('filters: built-in, custom (option and addFilter) and globals', () => {
  const dir = tmp({ 'f.html': '{{ name | upper }} {{ cents | money }} {{ tags | join(", ") }} {{ word | shout }} {{ site }} {{ twice(4) }}' })
  const t = createTemplateEngine({
    dirs: [dir],
    filters: { money: (c: number) => (c / 100).toFixed(2) },
    globals: { site: 'Causeway', twice: (n: number) => n * 2 },
  })
  t.addFilter('shout', (s: string) => `${s}!`)
  assert.equal(t.render('f.html', { name: 'lamp', cents: 1999, tags: ['a', '<b>'], word: 'hi' }), 'LAMP 19.99 a, &lt;b&gt; hi! Causeway 8')
})

test('templates are compiled once and cached; debug mode recompiles changed files', () => {
  const dir = tmp({ 'c.html': 'v1 {{ x }}', 'inc.html': 'i1', 'p.html': '{% include "inc.html" %}' })
  const prod = createTemplateEngine({ dirs: [dir], debug: false })
  const dev = createTemplateEngine({ dirs: [dir], debug: true })
  assert.equal(prod.render('c.html', { x: 1 }), 'v1 1')
  assert.equal(dev.render('c.html', { x: 1 }), 'v1 1')
  assert.equal(dev.render('p.html'), 'i1')
  writeFileSync(join(dir, 'c.html'), 'v2 {{ x }}')
  writeFileSync(join(dir, 'inc.html'), 'i2')
  const later = new Date(Date.now() + 5000)
  utimesSync(join(dir, 'c.html'), later, later) // a distinct mtime even on coarse clocks
  utimesSync(join(dir, 'inc.html'), later, later)
  assert.equal(prod.render('c.html', { x: 2 }), 'v1 2', 'production keeps the compiled template')
  assert.equal(dev.render('c.html', { x: 2 }), 'v2 2', 'debug picks up the change')
  assert.equal(dev.render('p.html'), 'i2', 'debug picks up a changed include')
})

test('directories are searched in order, first found wins (project dirs, then app dirs)', () => {
  const project = tmp({ 'shop/product.html': 'project override' })
  const app = tmp({ 'shop/product.html': 'app default', 'shop/list.html': 'app list' })
  const t = createTemplateEngine({ dirs: [project], appDirs: [app] })
  assert.equal(t.render('shop/product.html'), 'project override')
  assert.equal(t.render('shop/list.html'), 'app list')
  assert.equal(t.has('shop/list.html'), true)
  assert.equal(t.has('shop/none.html'), false)
  // Outside debug the answer is remembered: no disk lookups per error page.
  writeFileSync(join(project, 'shop/none.html'), 'late')
  assert.equal(t.has('shop/none.html'), false)
  const dev = createTemplateEngine({ dirs: [project], debug: true })
  assert.equal(dev.has('shop/none.html'), true)
})

test('a missing template is TemplateDoesNotExist listing the files tried; names cannot escape', () => {
  const a = tmp({ 'x.html': 'x' })
  const b = tmp({ 'secret.txt': 'secret' })
  const t = createTemplateEngine({ dirs: [join(a)], appDirs: [] })
  assert.throws(() => t.render('nope.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateDoesNotExist)
    assert.equal(e.code, 'CW_ERR_TEMPLATE_DOES_NOT_EXIST')
    assert.deepEqual(e.tried, [join(a, 'nope.html')])
    return true
  })
  const rel = join('..', b.split('/').pop()!, 'secret.txt')
  assert.throws(() => t.render(rel), TemplateDoesNotExist, 'a ../ name is refused')
  assert.throws(() => t.render('/etc/passwd'), TemplateDoesNotExist)
})

test('a syntax error is a TemplateError naming the template, file and line', () => {
  const dir = tmp({ 'broken.html': 'line 1\nline 2\n{% if %}\n' })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.throws(() => t.render('broken.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError, String(e))
    assert.equal(e.code, 'CW_ERR_TEMPLATE')
    assert.equal(e.templateName, 'broken.html')
    assert.equal(e.file, join(dir, 'broken.html'))
    assert.equal(e.line, 3)
    assert.match(e.message, /^template broken\.html:3:\d+: unexpected token: %}/)
    return true
  })
})

test('calling an undefined function is a TemplateError at its line, in the included template', () => {
  const dir = tmp({
    'page.html': 'a\nb\n{% include "part.html" %}',
    'part.html': 'one\ntwo\nthree {{ nope(1) }}',
    'top.html': '\n\n\n\n{{ missing() }}',
  })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.throws(() => t.render('top.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError)
    assert.equal(e.templateName, 'top.html')
    assert.equal(e.line, 5)
    assert.match(e.reason, /Unable to call `missing`, which is undefined/)
    return true
  })
  assert.throws(() => t.render('page.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError)
    assert.equal(e.templateName, 'part.html')
    assert.equal(e.line, 3)
    assert.deepEqual(e.chain, ['page.html', 'part.html'])
    assert.match(e.message, /^template part\.html:3:\d+: Unable to call `nope`/)
    return true
  })
})

test('an unknown filter and a missing include name the template and line', () => {
  const dir = tmp({ 'uf.html': 'x\n{{ 1 | nosuchfilter }}', 'mi.html': 'x\ny\n{% include "gone.html" %}' })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.throws(() => t.render('uf.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError)
    assert.equal(e.templateName, 'uf.html')
    assert.equal(e.line, 2)
    assert.match(e.reason, /filter not found: nosuchfilter/)
    return true
  })
  assert.throws(() => t.render('mi.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError)
    assert.equal(e.templateName, 'mi.html')
    assert.equal(e.line, 3)
    assert.match(e.reason, /template not found: gone\.html/)
    return true
  })
})

test('url(): positional params, keyword params, query; errors name the template', () => {
  const dir = tmp({
    'u.html': '{{ url("home") }} {{ url("shop:product", { slug: s }) }} {{ url("shop:product", slug=s) }} {{ url("shop:product", { slug: "a" }, { page: 2 }) }}',
    'bad.html': '\n{{ url("shop:product") }}',
  })
  const t = createTemplateEngine({ dirs: [dir], urls })
  assert.equal(t.render('u.html', { s: 'desk-lamp' }), '/ /shop/products/desk-lamp/ /shop/products/desk-lamp/ /shop/products/a/?page=2')
  assert.throws(() => t.render('bad.html'), (e: unknown) => {
    assert.ok(e instanceof TemplateError)
    assert.equal(e.templateName, 'bad.html')
    assert.equal(e.line, 2)
    assert.match(e.reason, /Reverse for 'shop:product' with no params not found/)
    return true
  })
  // Without `urls`, url() uses the rendering request's resolver.
  const t2 = createTemplateEngine({ dirs: [dir] })
  const req = makeRequest(makeApp({ urls, templates: t2 }))
  assert.match(t2.render('u.html', { s: 'x' }, req) as string, /^\/ \/shop\/products\/x\//)
})

test('url(): an application namespace prefers the instance serving the request (Django current_app)', () => {
  const blog = { appName: 'blog', urlpatterns: [path('', () => text('b'), { name: 'home' })] }
  const two = compileUrls([path('one/', include(blog, { namespace: 'one' })), path('two/', include(blog, { namespace: 'two' }))])
  const dir = tmp({ 'b.html': '{{ url("blog:home") }}' })
  const t = createTemplateEngine({ dirs: [dir] })
  const app = makeApp({ urls: two, templates: t })
  const inOne = makeRequest(app, 'GET', '/one/')
  const m = two.resolve('/one/', 'GET')
  assert.equal(m.kind, 'match')
  inOne.resolverMatch = m as never
  assert.equal(t.render('b.html', {}, inOne), '/one/')
  assert.equal(t.render('b.html', {}, makeRequest(app, 'GET', '/')), '/two/', 'no current app: the last deployed instance')
})

test('static(): STATIC_URL + name, hashed through a manifest when not in debug', () => {
  const dir = tmp({ 's.html': '{{ static("css/app.css") }} {{ static("img/a b.png") }}', 'm.html': '{{ static("js/missing.js") }}' })
  const manifestDir = tmp({ 'staticfiles.json': JSON.stringify({ version: '1.1', paths: { 'css/app.css': 'css/app.3f2a9c.css', 'img/a b.png': 'img/a b.77aa.png' } }) })
  const manifest = join(manifestDir, 'staticfiles.json')
  assert.equal(createTemplateEngine({ dirs: [dir] }).render('s.html'), '/static/css/app.css /static/img/a%20b.png')
  const prod = createTemplateEngine({ dirs: [dir], staticUrl: 'https://cdn.example/s/', staticManifest: manifest })
  assert.equal(prod.render('s.html'), 'https://cdn.example/s/css/app.3f2a9c.css https://cdn.example/s/img/a%20b.77aa.png')
  assert.throws(() => prod.render('m.html'), /Missing staticfiles manifest entry for 'js\/missing\.js'/)
  const lax = createTemplateEngine({ dirs: [dir], staticManifest: manifest, staticManifestStrict: false })
  assert.equal(lax.render('m.html'), '/static/js/missing.js')
  const dev = createTemplateEngine({ dirs: [dir], staticManifest: manifest, debug: true })
  assert.equal(dev.render('s.html'), '/static/css/app.css /static/img/a%20b.png', 'debug serves unhashed names')
  assert.throws(() => createTemplateEngine({ dirs: [dir], staticManifest: join(manifestDir, 'nope.json') }), /STATIC_MANIFEST.*cannot read/)
  assert.throws(() => createTemplateEngine({ dirs: [dir], staticUrl: '/s' }), /STATIC_URL.*must end with '\/'/)
  // From the web settings.
  const fromSettings = createTemplateEngine({ settings: { TEMPLATE_DIRS: [dir], STATIC_URL: '/assets/', DEBUG: false } })
  assert.equal(fromSettings.render('s.html'), '/assets/css/app.css /assets/img/a%20b.png')
})

test('static() and url() remember their answers without mixing up names, tables or current apps', () => {
  const dir = tmp({
    's.html': '{{ static("css/app.css") }} {{ static("/css/app.css") }} {{ static("js/x.js") }}',
    'm.html': '{{ static("js/missing.js") }}',
    'u.html': '{{ url("home") }} {{ url("blog:home") }} {{ url("shop:product", slug=s) }}',
  })
  const manifestDir = tmp({ 'staticfiles.json': JSON.stringify({ paths: { 'css/app.css': 'css/app.1.css', 'js/x.js': 'js/x.2.js' } }) })
  const prod = createTemplateEngine({ dirs: [dir], staticManifest: join(manifestDir, 'staticfiles.json') })
  for (let i = 0; i < 3; i++) {
    assert.equal(prod.render('s.html'), '/static/css/app.1.css /static/css/app.1.css /static/js/x.2.js')
    // A name missing from the manifest stays an error on every call (errors are not remembered).
    assert.throws(() => prod.render('m.html'), /Missing staticfiles manifest entry/)
  }
  const blog = { appName: 'blog', urlpatterns: [path('', () => text('b'), { name: 'home' })] }
  const shop = [path('products/<slug:slug>/', () => text('p'), { name: 'product' })]
  const a = compileUrls([path('', () => text('a'), { name: 'home' }), path('one/', include(blog, { namespace: 'one' })), path('two/', include(blog, { namespace: 'two' })), path('shop/', include(shop, { namespace: 'shop' }))])
  const b = compileUrls([path('b/', () => text('b'), { name: 'home' }), path('blog/', include(blog, { namespace: 'x' })), path('s/', include(shop, { namespace: 'shop' }))])
  const t = createTemplateEngine({ dirs: [dir] })
  const appA = makeApp({ urls: a, templates: t })
  const appB = makeApp({ urls: b, templates: t })
  const inOne = makeRequest(appA, 'GET', '/one/')
  inOne.resolverMatch = a.resolve('/one/', 'GET') as never
  for (let i = 0; i < 3; i++) {
    assert.equal(t.render('u.html', { s: 'lamp' }, makeRequest(appA)), '/ /two/ /shop/products/lamp/')
    assert.equal(t.render('u.html', { s: 'desk' }, inOne), '/ /one/ /shop/products/desk/', 'the current app picks its instance')
    assert.equal(t.render('u.html', { s: 'chair' }, makeRequest(appB)), '/b/ /blog/ /s/products/chair/', 'another URL table, its own answers')
  }
})

test('context processors: request, user, messages, csrf from req.state; custom; only with a request', async () => {
  const dir = tmp({
    'ctx.html': '{{ request.path }}|{{ user.name if user else "anon" }}|{% for m in messages %}[{{ m }}]{% endfor %}|{{ csrfToken }}|{{ csrfInput }}|{{ cart }}|{{ who }}',
  })
  let calls = 0
  const t = createTemplateEngine({
    dirs: [dir],
    contextProcessors: ['request', 'user', 'messages', 'csrf', (req) => { calls++; return { cart: req.query.get('cart') ?? 'empty', who: 'processor' } }],
  })
  const req = makeRequest(makeApp({ templates: t }), 'GET', '/shop/?cart=3')
  req.state.user = { name: '<Ann>' }
  req.state.messages = ['Saved', '<b>x</b>']
  req.state.csrfToken = 'tok"en'
  const out = t.render('ctx.html', { who: 'view' }, req)
  assert.equal(out, '/shop/|&lt;Ann&gt;|[Saved][&lt;b&gt;x&lt;/b&gt;]|tok&quot;en|<input type="hidden" name="csrfmiddlewaretoken" value="tok&#34;en">|3|view')
  assert.equal(calls, 1)
  t.render('ctx.html', {})
  assert.equal(calls, 1, 'processors do not run without a request')
  const anon = makeRequest(makeApp({ templates: t }))
  assert.equal(t.render('ctx.html', {}, anon), '/|anon||||empty|processor')

  // The csrf token is read only when the template outputs it (lazy, like Django's).
  let reads = 0
  const lazy = makeRequest(makeApp({ templates: t }))
  Object.defineProperty(lazy.state, 'csrfToken', { get: () => { reads++; return 'abc' } })
  const plain = createTemplateEngine({ dirs: [tmp({ 'p.html': 'no token here', 't.html': '{{ csrfToken }}' })] })
  plain.render('p.html', {}, lazy)
  assert.equal(reads, 0)
  assert.equal(plain.render('t.html', {}, lazy), 'abc')
  assert.equal(reads, 1)

  // csrfInput output twice reads the token each time (each read marks the response as using it)
  // and shows the token of the moment: the same one twice, a rotated one after a rotation.
  let token = 'first'
  let inputReads = 0
  const twice = makeRequest(makeApp({ templates: t }))
  Object.defineProperty(twice.state, 'csrfToken', { get: () => { inputReads++; return token } })
  const forms = createTemplateEngine({ dirs: [tmp({ 'f.html': '{{ csrfInput }}{{ rotate() }}{{ csrfInput }}|{{ csrfInput | length }}' })] })
  const input = (v: string) => `<input type="hidden" name="csrfmiddlewaretoken" value="${v}">`
  assert.equal(forms.render('f.html', { rotate: () => '' }, twice), `${input('first')}${input('first')}|${input('first').length}`)
  assert.equal(inputReads, 3)
  assert.equal(forms.render('f.html', { rotate: () => { token = 'second<'; return '' } }, twice), `${input('first')}${input('second&#60;')}|${input('second&#60;').length}`)
  token = ''
  assert.equal(forms.render('f.html', { rotate: () => '' }, twice), '|0', 'no token: no input')

  // Async processors are awaited.
  const asyncEngine = createTemplateEngine({ dirs: [dir], contextProcessors: [async () => ({ cart: 'async' })] })
  assert.equal(await asyncEngine.render('ctx.html', {}, anon), '|anon||||async|')
  assert.throws(() => createTemplateEngine({ dirs: [dir], contextProcessors: ['nope' as never] }), /unknown context processor "nope"/)
})

test('render(req, name, context, init) answers text/html; charset=utf-8 through req.app.templates', async () => {
  const dir = tmp({ 'r.html': '<p>{{ greeting }} {{ request.method }}</p>' })
  const templates = createTemplateEngine({ dirs: [dir] })
  const req = makeRequest(makeApp({ templates }))
  const res = await render(req, 'r.html', { greeting: 'héllo' })
  assert.equal(res.status, 200)
  assert.equal(res.getHeader('content-type'), 'text/html; charset=utf-8')
  assert.equal(res.body, '<p>héllo GET</p>')
  const created = await render(req, 'r.html', { greeting: 'x' }, { status: 201, headers: { 'x-a': '1' } })
  assert.equal(created.status, 201)
  assert.equal(created.getHeader('x-a'), '1')
  await assert.rejects(render(req, 'missing.html'), TemplateDoesNotExist)
})

test('precompile() compiles every template at startup and reports broken ones', () => {
  const dir = tmp({ 'ok.html': '{{ a }}', 'sub/ok2.html': '{% block b %}{% endblock %}', 'bad.html': '{% for %}', '.hidden': '{% if' })
  const t = createTemplateEngine({ dirs: [dir] })
  const r = t.precompile()
  assert.equal(r.compiled, 2)
  assert.equal(r.errors.length, 1)
  assert.ok(r.errors[0] instanceof TemplateError)
  assert.equal((r.errors[0] as TemplateError).templateName, 'bad.html')
})

test('loop variables in array, pair and nested loops (one binding call per iteration)', () => {
  const dir = tmp({
    'l.html': '{% for x in xs %}[{{ x }}:{{ loop.index }},{{ loop.index0 }},{{ loop.revindex }},{{ loop.revindex0 }},{{ loop.first }},{{ loop.last }},{{ loop.length }}]{% else %}none{% endfor %}',
    'pairs.html': '{% for k, v in obj %}{{ k }}={{ v }}@{{ loop.index }}/{{ loop.length }}{{ "," if not loop.last }}{% endfor %}',
    'nested.html': '{% for a in outer %}{% set o = loop %}{% for b in a %}{{ o.index }}.{{ loop.index }}{{ b }} {% endfor %}|{{ loop.index }}{% endfor %}',
  })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.equal(t.render('l.html', { xs: ['a', 'b', 'c'] }), '[a:1,0,3,2,true,false,3][b:2,1,2,1,false,false,3][c:3,2,1,0,false,true,3]')
  assert.equal(t.render('l.html', { xs: [] }), 'none')
  assert.equal(t.render('pairs.html', { obj: { x: 1, y: 2 } }), 'x=1@1/2,y=2@2/2')
  assert.equal(t.render('nested.html', { outer: [['p', 'q'], ['r']] }), '1.1p 1.2q |12.1r |2')
})

test('autoescape escapes & " \' < > and backslash like nunjucks; clean strings pass unchanged', () => {
  const dir = tmp({ 'e.html': '{{ a }}|{{ b }}|{{ n }}|{{ c | escape }}' })
  const t = createTemplateEngine({ dirs: [dir] })
  assert.equal(t.render('e.html', { a: 'plain text — ünïcode フ', b: `x&"'<>\\y<<`, n: 42, c: '<i>' }),
    'plain text — ünïcode フ|x&amp;&quot;&#39;&lt;&gt;&#92;y&lt;&lt;|42|&lt;i&gt;')
})
