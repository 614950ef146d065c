import { test } from 'node:test'
import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { createEdge, validateEdgeConfig } from '../../src/edge/index.ts'
import type { ConfigError } from '../../src/errors.ts'
import { tempDir } from './front-support.ts'

function keyOf(edge: Record<string, unknown>, root = process.cwd()): string {
  try {
    createEdge({ edge }, { root })
  } catch (e) {
    const err = e as ConfigError
    assert.equal(err.code, 'CW_ERR_CONFIG')
    assert.ok(err.message.includes(err.key), err.message)
    return err.key
  }
  throw new Error('expected a ConfigError')
}

test('config: every mistake is a ConfigError naming the key', (t) => {
  const root = tempDir(t, { 'public/a.txt': 'a' })
  const ok = { action: { respond: { body: 'x' } } }
  assert.equal(keyOf({ routes: [ok, ok, { action: { static: { root: 'nope' } } }] }, root), 'edge.routes[2].action.static.root')
  assert.equal(keyOf({ routes: [{ action: { static: { root: 'public', index: 'x', dotfiles: 'maybe' } } }] }, root), 'edge.routes[0].action.static.dotfiles')
  assert.equal(keyOf({ routes: [{ action: { static: { root: 'public', tryFiles: ['nope'] } } }] }, root), 'edge.routes[0].action.static.tryFiles[0]')
  assert.equal(keyOf({ routes: [{ match: { pathPrefix: '/s/' }, action: { static: { root: 'public', alias: 'public' } } }] }, root), 'edge.routes[0].action.static.root')
  assert.equal(keyOf({ routes: [{ action: { static: { alias: 'public' } } }] }, root), 'edge.routes[0].action.static.alias')
  assert.equal(keyOf({ routes: [{ action: { teleport: {} } }] }), 'edge.routes[0].action')
  assert.equal(keyOf({ routes: [{ action: { redirect: { status: 200, to: '/' } } }] }), 'edge.routes[0].action.redirect.status')
  assert.equal(keyOf({ routes: [{ action: { redirect: {} } }] }), 'edge.routes[0].action.redirect.to')
  assert.equal(keyOf({ routes: [{ action: { respond: { status: 999 } } }] }), 'edge.routes[0].action.respond.status')
  assert.equal(keyOf({ routes: [{ match: { pattern: '(' }, ...ok }] }), 'edge.routes[0].match.pattern')
  assert.equal(keyOf({ routes: [{ match: { hots: 'x' }, ...ok }] }), 'edge.routes[0].match.hots')
  assert.equal(keyOf({ routes: [{ match: { path: 'no-slash' }, ...ok }] }), 'edge.routes[0].match.path')
  assert.equal(keyOf({ routes: [{ name: 'a', ...ok }, { name: 'a', ...ok }] }), 'edge.routes[1].name')
  assert.equal(keyOf({ routes: [{ ...ok, maxBodySize: 'huge' }] }), 'edge.routes[0].maxBodySize')
  assert.equal(keyOf({ routes: [{}] }), 'edge.routes[0].action')
  assert.equal(keyOf({ listen: [{ port: 70000 }] }), 'edge.listen[0].port')
  assert.equal(keyOf({ listen: [{ port: 0, tls: { certs: [{ cert: 'missing.pem', key: 'k.pem' }] } }] }, root), 'edge.listen[0].tls.certs[0].cert')
  assert.equal(keyOf({ listen: [{ port: 0, tls: {} }] }), 'edge.listen[0].tls')
  assert.equal(keyOf({ listen: [{ port: 0, redirectToHttps: { status: 200 } }] }), 'edge.listen[0].redirectToHttps.status')
  assert.equal(keyOf({ listen: [] }), 'edge.listen')
  assert.equal(keyOf({ limits: { maxBodySize: 'lots' } }), 'edge.limits.maxBodySize')
  assert.equal(keyOf({ limits: { headersTimout: '1s' } }), 'edge.limits.headersTimout')
  assert.equal(keyOf({ compression: { encodings: ['zstd'] } }), 'edge.compression.encodings')
  assert.equal(keyOf({ accessLog: { format: 'xml' } }), 'edge.accessLog.format')
  assert.equal(keyOf({ trustedProxies: ['10.0.0.0/99'] }), 'edge.trustedProxies')
  assert.equal(keyOf({ lisen: [] }), 'edge.lisen')
  assert.equal(keyOf({ workers: 0 }), 'edge.workers')
  assert.equal(keyOf({ workers: 'many' }), 'edge.workers')
  assert.equal(keyOf({ workers: 1.5 }), 'edge.workers')
})

test('config: edge.workers defaults to one process per core, like nginx worker_processes auto', () => {
  const saved = process.env.EDGE_WORKERS
  delete process.env.EDGE_WORKERS
  try {
    assert.equal(validateEdgeConfig({}, process.cwd()).workers, availableParallelism())
    assert.equal(validateEdgeConfig({ workers: 'auto' }, process.cwd()).workers, availableParallelism())
    assert.equal(validateEdgeConfig({ workers: 3 }, process.cwd()).workers, 3)
    process.env.EDGE_WORKERS = '1'
    assert.equal(validateEdgeConfig({ workers: 3 }, process.cwd()).workers, 1)
    process.env.EDGE_WORKERS = 'auto'
    assert.equal(validateEdgeConfig({ workers: 3 }, process.cwd()).workers, availableParallelism())
    process.env.EDGE_WORKERS = 'lots'
    assert.throws(() => validateEdgeConfig({}, process.cwd()), /edge\.workers/)
  } finally {
    if (saved === undefined) delete process.env.EDGE_WORKERS
    else process.env.EDGE_WORKERS = saved
  }
})

test('config: edge.nodeArgs defaults to a larger young generation and must be node flags', () => {
  assert.deepEqual(validateEdgeConfig({}, process.cwd()).nodeArgs, ['--max-semi-space-size=32'])
  assert.deepEqual(validateEdgeConfig({ nodeArgs: [] }, process.cwd()).nodeArgs, [])
  assert.throws(() => validateEdgeConfig({ nodeArgs: '--max-semi-space-size=32' }, process.cwd()), /edge\.nodeArgs/)
  assert.throws(() => validateEdgeConfig({ nodeArgs: ['max-semi-space-size=32'] }, process.cwd()), /edge\.nodeArgs.*not a node flag/)
})

test('config: defaults fill every section', () => {
  const s = validateEdgeConfig({}, process.cwd())
  assert.deepEqual(s.listen.map((l) => [l.host, l.port]), [['127.0.0.1', 8080]])
  assert.equal(s.limits.maxBodySize, 10 * 1024 * 1024)
  assert.equal(s.limits.maxHeaderSize, 16 * 1024)
  assert.equal(s.compression.minSize, 1024)
  // nginx's gzip_comp_level default: on-the-fly gzip of pages at 6 cost about twice the CPU of 1.
  assert.equal(s.compression.gzipLevel, 1)
  assert.equal(s.compression.brotliQuality, 4)
  assert.equal(s.accessLog.format, 'combined')
  assert.equal(s.routes.length, 0)
  const st = validateEdgeConfig({ routes: [{ action: { static: { root: '.' } } }] }, process.cwd()).routes[0]!.action as { static: { immutable: RegExp; index: string[]; dotfiles: string } }
  assert.ok(st.static.immutable.test('app.3f2a9c1b.js'))
  assert.ok(!st.static.immutable.test('app.js'))
  assert.deepEqual(st.static.index, ['index.html'])
  assert.equal(st.static.dotfiles, 'deny')
})

test('config: edge.workers "auto" stays one process when the firewall counts in memory; a number is honoured', async () => {
  const { edgeProcesses } = await import('../../src/edge/cluster.ts')
  const env = {}
  assert.deepEqual(edgeProcesses({}, undefined, 4, env), { count: 4 })
  const mem = edgeProcesses({}, { rules: [] }, 4, env)
  assert.equal(mem.count, 1)
  assert.match(mem.note!, /firewall\.redisUrl/)
  assert.equal(edgeProcesses({}, { store: 'memory' }, 4, { REDIS_URL: 'redis://x' }).count, 1)
  assert.equal(edgeProcesses({}, {}, 4, { REDIS_URL: 'redis://127.0.0.1:6379' }).count, 4)
  assert.equal(edgeProcesses({}, { redisUrl: 'redis://127.0.0.1:6379' }, 4, env).count, 4)
  assert.equal(edgeProcesses({ workers: 3 }, {}, 3, env).count, 3)
  assert.equal(edgeProcesses({}, {}, 2, { EDGE_WORKERS: '2' }).count, 2)
})
