import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileUrls, include, path, registerConverter, NoReverseMatch, type ResolveResult } from '../../src/web/urls/index.ts'
import { LinearResolver } from './urls-linear.ts'
import { text, type HttpRequest } from '../../src/web/index.ts'

// Custom converters' parameter types, by declaration merging (what users write for their own).
declare module '../../src/web/urls/converters.ts' {
  interface ConverterTypes { year: number; hexid: number }
}

// Custom converters are registered before any table is compiled (the registry freezes then).
registerConverter('year', { regex: '[0-9]{4}', toValue: Number, toUrl: (y: number) => String(y).padStart(4, '0') })
registerConverter('hexid', {
  regex: '[0-9a-f]+',
  toValue: (s) => { if (s.length > 8) throw new Error('too long'); return parseInt(s, 16) },
  toUrl: (n: number) => n.toString(16),
})

const v = (label: string) => Object.assign(() => text(label), { label })
type Match = Extract<ResolveResult, { kind: 'match' }>
function match(r: ResolveResult): Match {
  assert.equal(r.kind, 'match', `expected a match, got ${JSON.stringify(r)}`)
  return r as Match
}
const label = (r: ResolveResult) => ((match(r).view as unknown) as { label: string }).label

test('converters: str, int, slug, uuid, path give typed params', () => {
  const urls = compileUrls([
    path('s/<str:name>/', v('str')),
    path('i/<int:id>/', v('int')),
    path('g/<slug:slug>/', v('slug')),
    path('u/<uuid:u>/', v('uuid')),
    path('p/<path:rest>', v('path')),
    path('d/<plain>/', v('default-str')),
  ])
  assert.deepEqual(match(urls.resolve('/s/héllo world/', 'GET')).params, { name: 'héllo world' })
  assert.deepEqual(match(urls.resolve('/i/0042/', 'GET')).params, { id: 42 })
  assert.equal(urls.resolve('/i/4x/', 'GET').kind, 'notFound')
  assert.equal(urls.resolve('/i/-1/', 'GET').kind, 'notFound')
  assert.deepEqual(match(urls.resolve('/g/a-b_C9/', 'GET')).params, { slug: 'a-b_C9' })
  assert.equal(urls.resolve('/g/a.b/', 'GET').kind, 'notFound')
  const id = '3f2a9c10-1b2c-4d5e-8f90-a1b2c3d4e5f6'
  assert.deepEqual(match(urls.resolve(`/u/${id}/`, 'GET')).params, { u: id })
  assert.equal(urls.resolve(`/u/${id.toUpperCase()}/`, 'GET').kind, 'notFound', 'uuid is lower-case like Django')
  assert.deepEqual(match(urls.resolve('/p/a/b/c.txt', 'GET')).params, { rest: 'a/b/c.txt' })
  assert.equal(urls.resolve('/p/', 'GET').kind, 'notFound', 'path needs at least one character')
  assert.deepEqual(match(urls.resolve('/d/x/', 'GET')).params, { plain: 'x' })
  assert.equal(urls.resolve('/s/a/b/', 'GET').kind, 'notFound', 'str stops at /')
})

test('typed params: the view sees numbers for <int:>', async () => {
  const urls = compileUrls([
    path('orders/<int:id>/<slug:s>/', (_req, params) => {
      const n: number = params.id // compile-time check: int → number
      const s: string = params.s
      return text(`${n + 1}:${s}`)
    }),
  ])
  const m = match(urls.resolve('/orders/41/x/', 'GET'))
  // @ts-expect-error a view that wants id as a string does not fit '<int:id>'
  path('x/<int:id>/', (_req: HttpRequest, p: { id: string }) => text(p.id))
  const res = await m.view(null as unknown as HttpRequest, m.params)
  assert.equal(res.body, '42:x')
})

test('the first pattern in the table wins, like Django', () => {
  const urls = compileUrls([
    path('<slug:page>/', v('page')),
    path('about/', v('about')),
    path('blog/<int:id>/', v('blog-int')),
    path('blog/latest/', v('blog-latest')),
    path('blog/<str:name>/', v('blog-str')),
  ])
  assert.equal(label(urls.resolve('/about/', 'GET')), 'page', 'an earlier converter route beats a later static one')
  assert.equal(label(urls.resolve('/blog/7/', 'GET')), 'blog-int')
  assert.equal(label(urls.resolve('/blog/latest/', 'GET')), 'blog-latest')
  assert.equal(label(urls.resolve('/blog/x y/', 'GET')), 'blog-str')
})

test('trailing slashes, the root and empty segments are exact', () => {
  const urls = compileUrls([path('', v('root')), path('a/', v('a/')), path('a', v('a')), path('a/b', v('a/b'))])
  assert.equal(label(urls.resolve('/', 'GET')), 'root')
  assert.equal(label(urls.resolve('', 'GET')), 'root')
  assert.equal(label(urls.resolve('/a/', 'GET')), 'a/')
  assert.equal(label(urls.resolve('/a', 'GET')), 'a')
  assert.equal(label(urls.resolve('/a/b', 'GET')), 'a/b')
  assert.equal(urls.resolve('/a/b/', 'GET').kind, 'notFound')
  assert.equal(urls.resolve('/a//', 'GET').kind, 'notFound')
  assert.equal(urls.resolve('//a/', 'GET').kind, 'notFound')
})

test('converters inside a segment and several per segment', () => {
  const urls = compileUrls([
    path('articles/<int:year>-<int:month>/', v('ym')),
    path('page<int:n>.html', v('page')),
    path('files/<path:p>/edit/', v('edit')),
    path('files/<path:p>', v('file')),
  ])
  assert.deepEqual(match(urls.resolve('/articles/2024-05/', 'GET')).params, { year: 2024, month: 5 })
  assert.deepEqual(match(urls.resolve('/page12.html', 'GET')).params, { n: 12 })
  assert.equal(urls.resolve('/page12xhtml', 'GET').kind, 'notFound', 'the dot is literal')
  const e = match(urls.resolve('/files/a/b/edit/', 'GET'))
  assert.equal(label(e), 'edit')
  assert.deepEqual(e.params, { p: 'a/b' })
  assert.deepEqual(match(urls.resolve('/files/a/b/view/', 'GET')).params, { p: 'a/b/view/' })
})

test('a converter that refuses the text (toValue throws) lets the next route match', () => {
  const urls = compileUrls([
    path('n/<int:id>/', v('int')),
    path('n/<str:id>/', v('str')),
    path('h/<hexid:h>/', v('hex')),
    path('h/<str:h>/', v('hex-fallback')),
  ])
  assert.equal(label(urls.resolve('/n/12/', 'GET')), 'int')
  assert.equal(label(urls.resolve('/n/99999999999999999999/', 'GET')), 'str', 'beyond 2^53 is not an int match')
  assert.deepEqual(match(urls.resolve('/h/ff/', 'GET')).params, { h: 255 })
  assert.equal(label(urls.resolve('/h/123456789/', 'GET')), 'hex-fallback')
})

test('custom converters: registered and per-compile, in resolve and reverse', () => {
  const urls = compileUrls([
    path('archive/<year:y>/', v('year'), { name: 'archive' }),
    path('color/<rgb:c>/', v('rgb'), { name: 'color' }),
  ], {
    converters: {
      rgb: { regex: '[0-9a-f]{6}', toValue: (s) => ({ r: parseInt(s.slice(0, 2), 16) }), toUrl: (c: { hex: string }) => c.hex },
    },
  })
  assert.deepEqual(match(urls.resolve('/archive/1999/', 'GET')).params, { y: 1999 })
  assert.equal(urls.resolve('/archive/99/', 'GET').kind, 'notFound')
  assert.deepEqual(match(urls.resolve('/color/ff0000/', 'GET')).params, { c: { r: 255 } })
  assert.equal(urls.reverse('archive', { y: 7 }), '/archive/0007/')
  // The custom converter's type reaches the view (a compile-time check).
  path('typed/<year:y>/', (_req, { y }) => text(String(y.toFixed(0))))
  // @ts-expect-error a year is a number, not a string
  path('typed/<year:y>/', (_req, { y }) => text(y.toUpperCase()))
  assert.equal(urls.reverse('color', { c: { hex: '00ff00' } }), '/color/00ff00/')
  assert.throws(() => urls.reverse('color', { c: { hex: 'nothex' } }), NoReverseMatch, 'toUrl output must match the regex')
  // A converter may match the empty string (an optional segment), as in Django.
  const opt = compileUrls([path('v/<optnum:n>/', v('opt'), { name: 'opt' })], {
    converters: { optnum: { regex: '[0-9]*', toValue: (s) => (s === '' ? null : Number(s)), toUrl: (n: number | null) => (n === null ? '' : String(n)) } },
  })
  assert.deepEqual(match(opt.resolve('/v//', 'GET')).params, { n: null })
  assert.deepEqual(match(opt.resolve('/v/3/', 'GET')).params, { n: 3 })
})

test('include(): prefixes, nested namespaces, app names and prefix parameters', () => {
  const product = path('products/<slug:slug>/', v('product'), { name: 'product' })
  const shop = { appName: 'shop', urlpatterns: [path('', v('shop-index'), { name: 'index' }), product] }
  const urls = compileUrls([
    path('shop/', include(shop)),
    path('eu/shop/', include(shop, { namespace: 'eu-shop' })),
    path('admin/', include([
      path('', v('admin-index'), { name: 'index' }),
      path('shop/', include(shop, { namespace: 'shop' })),
    ], { namespace: 'admin' })),
    path('u/<int:uid>/', include([path('posts/<int:pid>/', v('post'), { name: 'post' })], { namespace: 'user' })),
    include([path('flat/', v('flat'), { name: 'flat' })], { prefix: 'x/' }),
  ])
  const m = match(urls.resolve('/shop/products/lamp/', 'GET'))
  assert.equal(label(m), 'product')
  assert.equal(m.route, 'shop/products/<slug:slug>/')
  assert.equal(m.namespace, 'shop')
  assert.equal(m.appName, 'shop')
  assert.equal(m.viewName, 'shop:product')
  const nested = match(urls.resolve('/admin/shop/products/lamp/', 'GET'))
  assert.deepEqual(nested.namespaces, ['admin', 'shop'])
  assert.equal(nested.namespace, 'admin:shop')
  assert.equal(nested.viewName, 'admin:shop:product')
  const eu = match(urls.resolve('/eu/shop/', 'GET'))
  assert.equal(eu.namespace, 'eu-shop')
  assert.equal(eu.appName, 'shop')
  assert.deepEqual(match(urls.resolve('/u/3/posts/9/', 'GET')).params, { uid: 3, pid: 9 })
  assert.equal(label(urls.resolve('/x/flat/', 'GET')), 'flat')

  assert.equal(urls.reverse('shop:product', { slug: 'lamp' }), '/shop/products/lamp/')
  assert.equal(urls.reverse('eu-shop:index'), '/eu/shop/')
  assert.equal(urls.reverse('admin:shop:product', { slug: 'lamp' }), '/admin/shop/products/lamp/')
  assert.equal(urls.reverse('admin:index'), '/admin/')
  assert.equal(urls.reverse('user:post', { uid: 1, pid: 2 }), '/u/1/posts/2/')
  assert.equal(urls.reverse('flat'), '/x/flat/', 'an include without namespace shares the parent namespace')
  // Application namespace → the current app's instance when given, else the default instance.
  assert.equal(urls.reverse('shop:index', {}, undefined, { currentApp: 'eu-shop' }), '/eu/shop/')
  assert.equal(urls.reverse('shop:index'), '/shop/')
})

test('an application namespace without a default instance reverses to the last deployed one', () => {
  const app = { appName: 'blog', urlpatterns: [path('', v('b'), { name: 'home' })] }
  const urls = compileUrls([
    path('one/', include(app, { namespace: 'blog-one' })),
    path('two/', include(app, { namespace: 'blog-two' })),
  ])
  assert.equal(urls.reverse('blog:home'), '/two/')
  assert.equal(urls.reverse('blog:home', {}, undefined, { currentApp: 'blog-one' }), '/one/')
  assert.equal(urls.reverse('blog-one:home'), '/one/')
})

test('methods: 405 with the allowed list when the path matches but the method does not', () => {
  const urls = compileUrls([
    path('items/', v('list'), { methods: ['GET'] }),
    path('items/', v('create'), { methods: ['post'] }),
    path('items/<int:id>/', v('item'), { methods: ['GET', 'PUT', 'DELETE'] }),
    path('open/', v('open')),
  ])
  assert.equal(label(urls.resolve('/items/', 'GET')), 'list')
  assert.equal(label(urls.resolve('/items/', 'HEAD')), 'list', 'GET implies HEAD')
  assert.equal(label(urls.resolve('/items/', 'POST')), 'create')
  assert.deepEqual(urls.resolve('/items/', 'PATCH'), { kind: 'methodNotAllowed', allowed: ['GET', 'HEAD', 'POST'] })
  assert.deepEqual(urls.resolve('/items/5/', 'POST'), { kind: 'methodNotAllowed', allowed: ['GET', 'PUT', 'DELETE', 'HEAD'] })
  assert.equal(label(urls.resolve('/open/', 'BREW')), 'open', 'no methods option: any method')
  assert.equal(urls.resolve('/nope/', 'POST').kind, 'notFound')
})

test('a later route that allows the method wins over an earlier one that does not', () => {
  const urls = compileUrls([
    path('x/', v('get-only'), { methods: ['GET'] }),
    path('<str:any>/', v('catch')),
  ])
  assert.equal(label(urls.resolve('/x/', 'POST')), 'catch')
  assert.equal(label(urls.resolve('/x/', 'GET')), 'get-only')
})

test('404 lists the patterns tried, Django style', () => {
  const urls = compileUrls([
    path('', v('home'), { name: 'home' }),
    path('shop/', include([path('products/<slug:slug>/', v('p'), { name: 'product' })], { namespace: 'shop' })),
    path('api/', v('api'), { methods: ['POST'] }),
  ])
  const r = urls.resolve('/missing/', 'GET')
  assert.equal(r.kind, 'notFound')
  assert.deepEqual((r as { tried: readonly string[] }).tried, [
    "[name='home']",
    "shop/ products/<slug:slug>/ [name='product']",
    'api/ [POST]',
  ])
})

test('reverse(): percent-encoding, query, fragment and leading-slash safety', () => {
  const urls = compileUrls([
    path('s/<str:q>/', v('s'), { name: 's' }),
    path('p/<path:p>', v('p'), { name: 'p' }),
    path('café/', v('cafe'), { name: 'cafe' }),
    path('<path:p>', v('any'), { name: 'any' }),
  ])
  assert.equal(urls.reverse('s', { q: 'a b?c#d%e&f=g' }), '/s/a%20b%3Fc%23d%25e&f=g/')
  assert.equal(urls.reverse('s', { q: 'ünï' }), '/s/%C3%BCn%C3%AF/')
  assert.equal(urls.reverse('p', { p: 'a/b c' }), '/p/a/b%20c')
  assert.equal(urls.reverse('cafe'), '/caf%C3%A9/')
  assert.equal(urls.reverse('s', { q: 'x' }, { page: 2, tag: ['a', 'b c'], skip: undefined }), '/s/x/?page=2&tag=a&tag=b+c')
  assert.equal(urls.reverse('s', { q: 'x' }, 'a=1'), '/s/x/?a=1')
  assert.equal(urls.reverse('s', { q: 'x' }, undefined, { fragment: 'top part' }), '/s/x/#top%20part')
  assert.equal(urls.reverse('any', { p: '/evil.example/x' }), '/%2Fevil.example/x', 'no protocol-relative URL')
  // A reversed URL resolves back to the same parameters (the request path is percent-decoded).
  const url = urls.reverse('s', { q: 'a b%' })
  assert.deepEqual(match(urls.resolve(decodeURIComponent(url), 'GET')).params, { q: 'a b%' })
  assert.throws(() => urls.reverse('s', { q: 'a/b' }), NoReverseMatch, "str cannot hold '/'")
})

test('reverse(): duplicate names (last defined wins) and the same name with different params', () => {
  const urls = compileUrls([
    path('first/', v('1'), { name: 'dup' }),
    path('second/', v('2'), { name: 'dup' }),
    path('list/', v('l'), { name: 'articles' }),
    path('list/<int:page>/', v('lp'), { name: 'articles' }),
    path('feed/', v('f'), { name: 'feed', defaults: { format: 'rss' } }),
  ])
  assert.equal(urls.reverse('dup'), '/second/')
  assert.equal(urls.reverse('articles'), '/list/')
  assert.equal(urls.reverse('articles', { page: 3 }), '/list/3/')
  assert.equal(urls.reverse('feed', { format: 'rss' }), '/feed/', 'a param equal to the default is accepted')
  assert.throws(() => urls.reverse('feed', { format: 'atom' }), NoReverseMatch)
  assert.deepEqual(match(urls.resolve('/feed/', 'GET')).params, { format: 'rss' })
})

test('NoReverseMatch names the name and the params', () => {
  const urls = compileUrls([
    path('p/<int:id>/', v('p'), { name: 'product' }),
    path('shop/', include([path('', v('i'), { name: 'index' })], { namespace: 'shop' })),
  ])
  assert.throws(() => urls.reverse('product', { id: 'abc' }), (e: unknown) => {
    assert.ok(e instanceof NoReverseMatch)
    assert.equal(e.code, 'CW_ERR_NO_REVERSE_MATCH')
    assert.equal(e.viewName, 'product')
    assert.deepEqual(e.params, { id: 'abc' })
    assert.match(e.message, /Reverse for 'product' with params \{"id":"abc"\} not found\. 1 pattern\(s\) tried: \["p\/<int:id>\/"\]/)
    return true
  })
  assert.throws(() => urls.reverse('product'), /Reverse for 'product' with no params not found/)
  assert.throws(() => urls.reverse('product', { id: 1, extra: 2 }), /with params \{"id":1,"extra":2\}/)
  assert.throws(() => urls.reverse('nope'), /Reverse for 'nope' not found\. 'nope' is not a valid pattern name/)
  assert.throws(() => urls.reverse('blog:index'), /'blog' is not a registered namespace/)
  assert.throws(() => urls.reverse('shop:x:index'), /'x' is not a registered namespace inside 'shop'/)
  assert.throws(() => urls.reverse('shop:nope'), /Reverse for 'shop:nope' not found/)
})

test('bad tables are ConfigErrors naming the route', () => {
  const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'CW_ERR_CONFIG')
    assert.match((e as Error).message, re)
    return true
  })
  bad(() => compileUrls([path('x/<nope:a>/', v('x'))]), /urls\["x\/<nope:a>\/"\].*unknown converter 'nope'/)
  bad(() => compileUrls([path('x/<int:a>/<str:a>/', v('x'))]), /parameter 'a' appears twice/)
  bad(() => compileUrls([path('x/<int:1a>/', v('x'))]), /not an identifier/)
  bad(() => compileUrls([path('x/<int: a>/', v('x'))]), /whitespace/)
  bad(() => compileUrls([path('x/<int:a/', v('x'))]), /unbalanced/)
  bad(() => path('/x/', v('x')), /must not start with '\/'/)
  bad(() => path('x/', v('x'), { methods: [] }), /methods/)
  bad(() => path('x/', 'nope' as never), /view function or include/)
  bad(() => compileUrls([path('x/', v('x'), { name: 'a:b' })]), /without ':'/)
  bad(() => compileUrls([{ kind: 'nope' } as never]), /not a url pattern/)
  bad(() => include({} as never), /urlpatterns/)
  bad(() => compileUrls([], { converters: { bad: { regex: '(a)', toValue: String, toUrl: String } } }), /urls\.converters\.bad.*capturing groups/)
  bad(() => compileUrls([], { converters: { bad: { regex: '[a-', toValue: String, toUrl: String } } }), /urls\.converters\.bad.*invalid regex/)
})

test('late registration is refused after compile', () => {
  const table = [path('a/', v('a'))]
  const urls = compileUrls(table)
  assert.throws(() => table.push(path('b/', v('b'))), TypeError, 'the compiled table is frozen')
  assert.throws(() => registerConverter('late', { regex: '[a-z]+', toValue: String, toUrl: String }), /after the URL patterns were compiled/)
  assert.equal(urls.resolve('/b/', 'GET').kind, 'notFound')
})

test('warnings: duplicate namespaces (the first include wins), several slash-spanning converters', () => {
  const urls = compileUrls([
    path('a/', include([path('', v('a'), { name: 'i' })], { namespace: 'n' })),
    path('b/', include([path('', v('b'), { name: 'i' })], { namespace: 'n' })),
  ])
  assert.equal(urls.reverse('n:i'), '/a/')
  assert.match(urls.warnings[0]!, /namespace 'n' isn't unique/)
  assert.equal(label(urls.resolve('/b/', 'GET')), 'b', 'the routes still resolve')
  const two = compileUrls([path('<path:a>/x/<path:b>', v('ab'))])
  assert.match(two.warnings[0]!, /route '<path:a>\/x\/<path:b>' has 2 converters that span '\/'/)
  assert.deepEqual(match(two.resolve('/1/2/x/3/4', 'GET')).params, { a: '1/2', b: '3/4' })
})

test('500 routes resolve correctly, and every name reverses to a URL that resolves back', () => {
  const table = []
  for (let i = 0; i < 100; i++) {
    table.push(path(`section${i}/`, v(`s${i}`), { name: `s${i}` }))
    table.push(path(`section${i}/<int:id>/`, v(`s${i}-int`), { name: `s${i}-int` }))
    table.push(path(`section${i}/<slug:slug>/edit/`, v(`s${i}-edit`), { name: `s${i}-edit` }))
    table.push(path(`api/v${i}/items/<uuid:u>/`, v(`api${i}`), { name: `api${i}`, methods: ['GET', 'PUT'] }))
    table.push(path(`files${i}/<path:p>`, v(`f${i}`), { name: `f${i}` }))
  }
  const urls = compileUrls(table)
  assert.equal(urls.size, 500)
  const u = '0f2a9c10-1b2c-4d5e-8f90-a1b2c3d4e5f6'
  for (let i = 0; i < 100; i++) {
    assert.equal(label(urls.resolve(`/section${i}/`, 'GET')), `s${i}`)
    assert.deepEqual(match(urls.resolve(`/section${i}/${i * 7}/`, 'GET')).params, { id: i * 7 })
    assert.deepEqual(match(urls.resolve(`/section${i}/item-${i}/edit/`, 'GET')).params, { slug: `item-${i}` })
    assert.equal(label(urls.resolve(`/api/v${i}/items/${u}/`, 'PUT')), `api${i}`)
    assert.deepEqual(urls.resolve(`/api/v${i}/items/${u}/`, 'POST'), { kind: 'methodNotAllowed', allowed: ['GET', 'PUT', 'HEAD'] })
    assert.deepEqual(match(urls.resolve(`/files${i}/a/b${i}.css`, 'GET')).params, { p: `a/b${i}.css` })
    assert.equal(urls.resolve(`/section${i}/x/`, 'GET').kind, 'notFound')
    // Every name reverses to a URL that resolves back to the same route.
    for (const [name, params] of [[`s${i}`, {}], [`s${i}-int`, { id: i }], [`s${i}-edit`, { slug: 'z' }], [`api${i}`, { u }], [`f${i}`, { p: 'x/y' }]] as const) {
      const back = match(urls.resolve(urls.reverse(name, params), 'GET'))
      assert.equal(back.name, name)
      assert.deepEqual(back.params, params)
    }
  }
  assert.equal(urls.resolve('/section100/', 'GET').kind, 'notFound')
})

test('randomised tables: the trie agrees with a linear Django-style scan on every path', () => {
  let seed = 12345
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
  const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)]!
  const words = ['a', 'b', 'about', '1', '22', 'x-y', '']
  const convs = ['<int:n>', '<slug:s>', '<str:t>', 'p<int:q>', '<path:r>', '<int:n>-<int:m>']
  const converters = {
    int: { regex: '[0-9]+', toValue: (s: string) => { const n = Number(s); if (!Number.isSafeInteger(n)) throw new Error(); return n }, toUrl: String },
    slug: { regex: '[-a-zA-Z0-9_]+', toValue: String, toUrl: String },
    str: { regex: '[^/]+', toValue: String, toUrl: String },
    path: { regex: '.+', toValue: String, toUrl: String },
  }
  const pathSegs = ['a', 'b', 'about', '1', '22', 'x-y', 'p7', '3-4', '', 'zz']
  const seen = { match: 0, notFound: 0, methodNotAllowed: 0 }
  for (let round = 0; round < 40; round++) {
    const table = []
    const n = 5 + rnd(30)
    for (let i = 0; i < n; i++) {
      const segs: string[] = []
      const len = 1 + rnd(3)
      for (let k = 0; k < len; k++) segs.push(rnd(3) === 0 ? pick(convs) : pick(words))
      let route = segs.join('/') + (rnd(2) ? '/' : '')
      if ((route.match(/<(?:\w+:)?(\w+)>/g) ?? []).length !== new Set(route.match(/:(\w+)>/g) ?? []).size) continue // duplicate names
      route = route.replace(/^\/+/, '')
      const methods = rnd(4) === 0 ? { methods: [pick(['GET', 'POST', 'PUT'])] } : {}
      table.push(path(route, v(`r${i}:${route}`), methods))
    }
    const trie = compileUrls(table)
    const linear = new LinearResolver(table, converters)
    for (let k = 0; k < 60; k++) {
      const segs: string[] = []
      const len = 1 + rnd(4)
      for (let j = 0; j < len; j++) segs.push(pick(pathSegs))
      const p = '/' + segs.join('/') + (rnd(2) ? '/' : '')
      const method = pick(['GET', 'POST', 'PUT', 'HEAD'])
      const got = trie.resolve(p, method)
      const want = linear.resolve(p, method)
      seen[got.kind]++
      const ctx: string = `${method} ${p} in ${JSON.stringify(table.map((e) => e.route))}`
      if (want === 'notFound') assert.equal(got.kind, 'notFound', ctx)
      else if ('allowed' in want) {
        assert.equal(got.kind, 'methodNotAllowed', ctx)
        assert.deepEqual(new Set((got as { allowed: string[] }).allowed), new Set(want.allowed), ctx)
      } else {
        const m = match(got)
        assert.equal(m.view, want.view, ctx)
        assert.deepEqual(m.params, want.params, ctx)
      }
    }
  }
  // The generator must exercise every outcome, or the agreement above proves little.
  assert.ok(seen.match > 300 && seen.notFound > 300 && seen.methodNotAllowed > 100, JSON.stringify(seen))
})

test('a repeated path resolves from the remembered lookup; other paths and methods still resolve afresh', () => {
  const urls = compileUrls([
    path('a/', v('a')),
    path('b/', v('b'), { methods: ['POST'] }),
    path('b/', v('b-get')),
    path('<slug:s>/', v('slug')),
  ])
  for (let i = 0; i < 3; i++) {
    assert.equal(label(urls.resolve('/a/', 'GET')), 'a')
    assert.equal(label(urls.resolve('/a/', 'GET')), 'a')
    assert.equal(label(urls.resolve('/b/', 'POST')), 'b')
    assert.equal(label(urls.resolve('/b/', 'GET')), 'b-get')
    assert.equal(label(urls.resolve('/x/', 'GET')), 'slug')
    assert.equal(urls.resolve('/x/y/', 'GET').kind, 'notFound')
    assert.equal(label(urls.resolve('a/', 'GET')), 'a')
  }
})
