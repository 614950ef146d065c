import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, utimesSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync, gunzipSync, brotliDecompressSync } from 'node:zlib'
import { request, startEdge, tempDir } from './front-support.ts'

const CSS = 'body { color: red }\n'.repeat(200)
const BIG = Buffer.alloc(300 * 1024, 'abcdefghij')

function site(t: Parameters<typeof tempDir>[0]) {
  return tempDir(t, {
    'index.html': '<h1>home</h1>',
    'app.css': CSS,
    'app.3f2a9c1b7d.js': 'console.log(1)\n',
    'data.json': '{"a":1}',
    'tiny.txt': 'tiny',
    'big.bin': BIG,
    'docs/index.html': '<h1>docs</h1>',
    'empty/keep.bin': 'x',
    'pre/style.css': CSS,
    'pre/style.css.br': brotliCompressSync(CSS),
    'pre/style.css.gz': gzipSync(CSS),
    '.env': 'SECRET=1',
    '.well-known/security.txt': 'Contact: x',
    'spa/index.html': '<div id=app>',
  })
}

test('static: 200 with type, length, validators; HEAD has the same head and no body', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }] })
  const url = edge.addresses[0]!.url
  const r = await request(`${url}/app.css`)
  assert.equal(r.status, 200)
  assert.equal(r.headers['content-type'], 'text/css; charset=utf-8')
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(CSS)))
  assert.match(r.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/)
  assert.ok(r.headers['last-modified'])
  assert.equal(r.headers['accept-ranges'], 'bytes')
  assert.equal(r.text, CSS)
  const h = await request(`${url}/app.css`, { method: 'HEAD' })
  assert.equal(h.status, 200)
  assert.equal(h.headers['content-length'], r.headers['content-length'])
  assert.equal(h.body.length, 0)
  assert.equal((await request(`${url}/data.json`)).headers['content-type'], 'application/json; charset=utf-8')
  assert.equal((await request(`${url}/big.bin`)).headers['content-type'], 'application/octet-stream')
  const post = await request(`${url}/app.css`, { method: 'POST', body: 'x' })
  assert.equal(post.status, 405)
  assert.equal(post.headers.allow, 'GET, HEAD')
})

test('static: If-None-Match and If-Modified-Since answer 304; a changed file gets a new ETag', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }], openFileCache: { validity: 0 } })
  const url = edge.addresses[0]!.url
  const first = await request(`${url}/tiny.txt`)
  const etag = first.headers.etag!
  const nm = await request(`${url}/tiny.txt`, { headers: { 'if-none-match': `"nope", ${etag}` } })
  assert.equal(nm.status, 304)
  assert.equal(nm.body.length, 0)
  assert.equal(nm.headers.etag, etag)
  assert.equal((await request(`${url}/tiny.txt`, { headers: { 'if-none-match': 'W/' + etag } })).status, 304)
  assert.equal((await request(`${url}/tiny.txt`, { headers: { 'if-none-match': '"other"' } })).status, 200)
  assert.equal((await request(`${url}/tiny.txt`, { headers: { 'if-modified-since': first.headers['last-modified']! } })).status, 304)
  assert.equal((await request(`${url}/tiny.txt`, { headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } })).status, 200)
  // If-None-Match wins over If-Modified-Since.
  assert.equal((await request(`${url}/tiny.txt`, { headers: { 'if-none-match': '"other"', 'if-modified-since': first.headers['last-modified']! } })).status, 200)
  writeFileSync(join(root, 'tiny.txt'), 'changed!')
  utimesSync(join(root, 'tiny.txt'), new Date(), new Date(Date.now() + 5000))
  const after = await request(`${url}/tiny.txt`, { headers: { 'if-none-match': etag } })
  assert.equal(after.status, 200)
  assert.equal(after.text, 'changed!')
  assert.notEqual(after.headers.etag, etag)
})

test('static: Range gives 206, unsatisfiable 416, several ranges the full body, stale If-Range the full body', async (t) => {
  const root = site(t)
  // memoryMaxFile 0: big files stream from the shared descriptor.
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }], openFileCache: { memoryMaxFile: 1024 } })
  const url = edge.addresses[0]!.url
  for (const file of ['tiny.txt', 'big.bin']) {
    const full = await request(`${url}/${file}`)
    const size = full.body.length
    const r = await request(`${url}/${file}`, { headers: { range: 'bytes=1-3' } })
    assert.equal(r.status, 206, file)
    assert.equal(r.headers['content-range'], `bytes 1-3/${size}`)
    assert.deepEqual(r.body, full.body.subarray(1, 4))
    const suffix = await request(`${url}/${file}`, { headers: { range: 'bytes=-2' } })
    assert.equal(suffix.status, 206)
    assert.deepEqual(suffix.body, full.body.subarray(size - 2))
    const open = await request(`${url}/${file}`, { headers: { range: 'bytes=2-' } })
    assert.deepEqual(open.body, full.body.subarray(2))
    const bad = await request(`${url}/${file}`, { headers: { range: `bytes=${size}-` } })
    assert.equal(bad.status, 416)
    assert.equal(bad.headers['content-range'], `bytes */${size}`)
    const multi = await request(`${url}/${file}`, { headers: { range: 'bytes=0-1,3-4' } })
    assert.equal(multi.status, 200)
    assert.equal(multi.body.length, size)
    const stale = await request(`${url}/${file}`, { headers: { range: 'bytes=0-1', 'if-range': '"stale"' } })
    assert.equal(stale.status, 200)
    const fresh = await request(`${url}/${file}`, { headers: { range: 'bytes=0-1', 'if-range': full.headers.etag! } })
    assert.equal(fresh.status, 206)
  }
  const bigFull = await request(`${url}/big.bin`)
  assert.deepEqual(bigFull.body, BIG)
})

test('static: precompressed .br/.gz siblings chosen by Accept-Encoding q-values, with Vary', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }], compression: { enabled: false } })
  const url = edge.addresses[0]!.url
  const br = await request(`${url}/pre/style.css`, { headers: { 'accept-encoding': 'gzip, br' } })
  assert.equal(br.headers['content-encoding'], 'br')
  assert.equal(br.headers.vary, 'Accept-Encoding')
  assert.equal(br.headers['content-type'], 'text/css; charset=utf-8')
  assert.equal(brotliDecompressSync(br.body).toString(), CSS)
  const gz = await request(`${url}/pre/style.css`, { headers: { 'accept-encoding': 'br;q=0.1, gzip' } })
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.equal(gunzipSync(gz.body).toString(), CSS)
  assert.notEqual(gz.headers.etag, br.headers.etag)
  const none = await request(`${url}/pre/style.css`, { headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } })
  assert.equal(none.headers['content-encoding'], undefined)
  assert.equal(none.text, CSS)
  const ranged = await request(`${url}/pre/style.css`, { headers: { 'accept-encoding': 'br', range: 'bytes=0-3' } })
  assert.equal(ranged.status, 206)
  assert.equal(ranged.headers['content-encoding'], undefined)
  assert.equal(ranged.text, CSS.slice(0, 4))
  // A sibling is never served by its own name to a client that did not ask (it is just a file).
  assert.equal((await request(`${url}/pre/style.css.gz`)).headers['content-encoding'], undefined)
})

test('static: hashed names get immutable caching; others the configured Cache-Control', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root, cacheControl: 'public, max-age=60' } } }] })
  const url = edge.addresses[0]!.url
  assert.equal((await request(`${url}/app.3f2a9c1b7d.js`)).headers['cache-control'], 'public, max-age=31536000, immutable')
  assert.equal((await request(`${url}/app.css`)).headers['cache-control'], 'public, max-age=60')
})

test('static: index, directory redirect, no listing, dotfiles denied but .well-known served', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }] })
  const url = edge.addresses[0]!.url
  assert.equal((await request(`${url}/`)).text, '<h1>home</h1>')
  const redir = await request(`${url}/docs?x=1`)
  assert.equal(redir.status, 301)
  assert.equal(redir.headers.location, '/docs/?x=1')
  assert.equal((await request(`${url}/docs/`)).text, '<h1>docs</h1>')
  const listing = await request(`${url}/empty/`)
  assert.equal(listing.status, 404)
  assert.doesNotMatch(listing.text, /keep\.bin/)
  assert.equal((await request(`${url}/.env`)).status, 404)
  assert.equal((await request(`${url}/.well-known/security.txt`)).text, 'Contact: x')
  assert.equal((await request(`${url}/missing.css`)).status, 404)
})

test('static: alias replaces the route prefix; try_files falls back (SPA) or answers =404', async (t) => {
  const root = site(t)
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'assets', 'a.txt'), 'alias works')
  const edge = await startEdge(t, {
    routes: [
      { match: { pathPrefix: '/static/' }, action: { static: { alias: join(root, 'assets') } } },
      // nginx's classic alias slip: a prefix without the trailing slash must still not escape.
      { match: { pathPrefix: '/files' }, action: { static: { alias: join(root, 'assets') } } },
      { match: { pathPrefix: '/app/' }, action: { static: { root, tryFiles: ['$uri', '/spa/index.html'] } } },
      { match: { pathPrefix: '/strict/' }, action: { static: { root, tryFiles: ['$uri', '=404'] } } },
    ],
  })
  const url = edge.addresses[0]!.url
  assert.equal((await request(`${url}/static/a.txt`)).text, 'alias works')
  assert.equal((await request(`${url}/static../app.css`)).status, 404)
  assert.equal((await request(`${url}/files/a.txt`)).text, 'alias works')
  const slip = await request(`${url}/files../app.css`)
  assert.equal(slip.status, 400)
  assert.notEqual(slip.text, CSS)
  assert.equal((await request(`${url}/app/some/client/route`)).text, '<div id=app>')
  assert.equal((await request(`${url}/strict/nothing`)).status, 404)
})

test('static: the file cache serves from memory and from descriptors, and notices deletions', async (t) => {
  const root = site(t)
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }], openFileCache: { validity: 0, memoryMaxFile: 0 } })
  const url = edge.addresses[0]!.url
  const many = await Promise.all(Array.from({ length: 20 }, () => request(`${url}/big.bin`)))
  for (const r of many) assert.deepEqual(r.body, BIG)
  const { rmSync } = await import('node:fs')
  rmSync(join(root, 'big.bin'))
  assert.equal((await request(`${url}/big.bin`)).status, 404)
})

test('static: a remembered file is rechecked after openFileCache.validity: changes, deletions and retargeted symlinks show', async (t) => {
  const root = site(t)
  const outside = tempDir(t, { 'secret.txt': 'do not serve' })
  const { rmSync, symlinkSync, unlinkSync } = await import('node:fs')
  symlinkSync(join(root, 'tiny.txt'), join(root, 'link.txt'))
  const validity = 300
  const edge = await startEdge(t, { routes: [{ action: { static: { root } } }], openFileCache: { validity } })
  const url = edge.addresses[0]!.url
  const wait = () => new Promise((r) => setTimeout(r, validity + 100))
  // Served twice (the second from the remembered resolution), HEAD and 304 from it too.
  for (let i = 0; i < 2; i++) assert.equal((await request(`${url}/app.css`)).text, CSS)
  const head = await request(`${url}/app.css`, { method: 'HEAD' })
  assert.equal(head.headers['content-length'], String(CSS.length))
  assert.equal(head.body.length, 0)
  assert.equal((await request(`${url}/app.css`, { headers: { 'if-none-match': head.headers.etag! } })).status, 304)
  assert.equal((await request(`${url}/link.txt`)).text, 'tiny')
  // Like nginx's open_file_cache_valid: within the window the cached version may still answer;
  // after it, the first request sees the change.
  writeFileSync(join(root, 'app.css'), 'new contents')
  utimesSync(join(root, 'app.css'), new Date(), new Date(Date.now() + 5000))
  await wait()
  const changed = await request(`${url}/app.css`)
  assert.equal(changed.text, 'new contents')
  assert.notEqual(changed.headers.etag, head.headers.etag)
  rmSync(join(root, 'app.css'))
  await wait()
  assert.equal((await request(`${url}/app.css`)).status, 404)
  // A symlink pointed out of the root after it was served is refused once rechecked.
  unlinkSync(join(root, 'link.txt'))
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'))
  await wait()
  const out = await request(`${url}/link.txt`)
  assert.equal(out.status, 404)
  assert.ok(!out.text.includes('do not serve'))
})
