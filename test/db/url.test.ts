// DATABASE_URL parsing, the db settings table, setup()/getConnection() defaults.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDatabaseUrl, resolveDbSettings, setup, getConnection, closeAll, connect } from '../../src/db/index.ts'

test('parseDatabaseUrl: sqlite relative, absolute, memory; postgres with schema', () => {
  assert.deepEqual(parseDatabaseUrl('sqlite:///db.sqlite3', '/srv/app'), { dialect: 'sqlite', filename: '/srv/app/db.sqlite3', url: 'sqlite:///db.sqlite3' })
  assert.deepEqual(parseDatabaseUrl('sqlite:///var/x.sqlite3', '/srv/app').dialect, 'sqlite')
  assert.equal((parseDatabaseUrl('sqlite:///var/x.sqlite3', '/srv/app') as { filename: string }).filename, '/srv/app/var/x.sqlite3')
  assert.equal((parseDatabaseUrl('sqlite:////abs/path.db', '/srv/app') as { filename: string }).filename, '/abs/path.db')
  assert.equal((parseDatabaseUrl('sqlite::memory:') as { filename: string }).filename, ':memory:')
  const p = parseDatabaseUrl('postgresql://u:secret@db:5432/shop?schema=tenant1&sslmode=disable')
  assert.equal(p.dialect, 'postgres')
  assert.equal((p as { schema?: string }).schema, 'tenant1')
  assert.doesNotMatch((p as { connectionString: string }).connectionString, /schema=/)
  assert.equal(parseDatabaseUrl('postgres://db/shop').dialect, 'postgres')
})

test('parseDatabaseUrl: bad URLs are ConfigErrors naming the key, without the password', () => {
  assert.throws(() => parseDatabaseUrl('mysql://u:pw@h/db'), (e: any) => e.code === 'CW_ERR_CONFIG' && e.key === 'db.url' && !e.message.includes(':pw@') && /unsupported database URL/.test(e.message))
  assert.throws(() => parseDatabaseUrl('sqlite:relative.db'), { code: 'CW_ERR_CONFIG', message: /sqlite:\/\/\/relative/ })
  assert.throws(() => parseDatabaseUrl('postgres://h/db?schema=bad;drop'), { code: 'CW_ERR_CONFIG', message: /plain identifier/ })
})

test('db settings: defaults, environment overrides, errors naming db.key', () => {
  const s = resolveDbSettings({}, {})
  assert.equal(s.url, 'sqlite:///db.sqlite3')
  assert.equal(s.models, './models.ts')
  assert.equal(s.migrations, './migrations')
  assert.equal(s.poolSize, 10)
  assert.equal(s.busyTimeout, 5000)
  assert.equal(s.atomicRequests, false)
  assert.equal(s.pipeline, 0)
  assert.equal(resolveDbSettings({}, { DB_PIPELINE: '2' }).pipeline, 2)
  assert.throws(() => resolveDbSettings({ pipeline: -1 }, {}), { code: 'CW_ERR_CONFIG', message: /db\.pipeline/ })
  assert.equal(resolveDbSettings({ url: 'sqlite::memory:' }, { DATABASE_URL: 'postgres://h/db', DB_POOL_SIZE: '3' }).url, 'postgres://h/db')
  assert.equal(resolveDbSettings({}, { DB_POOL_SIZE: '3' }).poolSize, 3)
  assert.equal(resolveDbSettings({ busyTimeout: '2s' }, {}).busyTimeout, 2000)
  assert.throws(() => resolveDbSettings({ poolSize: 0 }, {}), { code: 'CW_ERR_CONFIG', message: /db\.poolSize/ })
  assert.throws(() => resolveDbSettings({ pool: 3 }, {}), { code: 'CW_ERR_CONFIG', message: /db\.pool: unknown setting/ })
  assert.throws(() => resolveDbSettings({ url: 'mysql://x' }, {}), { code: 'CW_ERR_CONFIG', message: /db\.url/ })
})

test('setup(): one default connection per process, a SQLite file in the project by default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-setup-'))
  const saved = process.env.DATABASE_URL
  delete process.env.DATABASE_URL
  t.after(async () => {
    await closeAll()
    if (saved !== undefined) process.env.DATABASE_URL = saved
    rmSync(dir, { recursive: true, force: true })
  })
  const a = setup({}, dir)
  assert.equal(setup({}, dir), a, 'idempotent')
  assert.equal(getConnection(), a)
  await a.exec('CREATE TABLE t (x integer)')
  assert.ok(existsSync(join(dir, 'db.sqlite3')))
  const [[fk]] = await a.query({ sql: 'PRAGMA foreign_keys', params: [] }) as [[number]]
  assert.equal(fk, 1)
  await closeAll()
  assert.notEqual(setup({ url: 'sqlite::memory:' }), a, 'closeAll forgets the default')
  const m = connect('sqlite::memory:')
  await m.close()
  await m.close()
})
