// PostgreSQL pipeline mode (`db.pipeline`): statements outside transactions share a few
// connections, several in flight on each, and still behave one by one — each its own implicit
// transaction, a failing one failing alone — while atomic() keeps a pooled connection of its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { spawnSync } from 'node:child_process'
import { connect, closeAll, atomic, currentExecutor, BadValueError, type Connection } from '../../src/db/index.ts'
import { needPostgres, uniqueName } from '../support/services.ts'
import { countSocketWrites, portOf } from '../support/socket-writes.ts'

// A statement that keeps its connection busy for a moment.
const slowBackend = async (c: Connection): Promise<number> =>
  (await c.query({ sql: 'SELECT pg_backend_pid() FROM pg_sleep(0.05)', params: [] }))[0]![0] as number

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r))

const backend = async (c: Connection | ReturnType<typeof currentExecutor>): Promise<number> =>
  (await c.query({ sql: 'SELECT pg_backend_pid()', params: [] }))[0]![0] as number

test('pipeline: concurrent statements share one connection and each gets its own answer', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 1, poolSize: 2 })
  t.after(closeAll)
  const rows = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    conn.query({ sql: 'SELECT $1::int, pg_backend_pid()', params: [i] }, i % 2 === 0)))
  assert.deepEqual(rows.map((r) => r[0]![0]), Array.from({ length: 40 }, (_, i) => i))
  assert.equal(new Set(rows.map((r) => r[0]![1])).size, 1, 'one backend served them all')
  // The pool is untouched: no transaction ran.
  assert.equal((conn as unknown as { pool: pg.Pool }).pool.totalCount, 0)
})

test('pipeline: a failing statement fails alone; those around it on the same connection succeed', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 1 })
  t.after(closeAll)
  const results = await Promise.allSettled([
    conn.query({ sql: 'SELECT $1::int', params: [1] }, true),
    conn.query({ sql: 'SELECT 10 / $1::int', params: [0] }, true),
    conn.run({ sql: 'SELECT no_such_column FROM pg_class', params: [] }),
    conn.query({ sql: 'SELECT $1::int', params: [4] }, true),
    conn.exec('SELECT 5'),
  ])
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled'])
  assert.deepEqual((results[0] as PromiseFulfilledResult<unknown[][]>).value, [[1]])
  assert.deepEqual((results[3] as PromiseFulfilledResult<unknown[][]>).value, [[4]])
  assert.match(String((results[1] as PromiseRejectedResult).reason), /division by zero/)
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof BadValueError, 'a prepared statement\'s error is translated (SQLSTATE 22012)')
  await assert.rejects(conn.run({ sql: 'SELECT 10 / $1::int', params: [0] }, true), BadValueError, 'and through run()')
  // The named statement whose execution failed stays usable, alone and pipelined.
  assert.deepEqual(await conn.query({ sql: 'SELECT 10 / $1::int', params: [2] }, true), [[5]])
  // Its first use failing while the next one waits right behind it (sent without a Parse).
  assert.deepEqual(await Promise.all([0, 4].map((d) => conn.query({ sql: 'SELECT 100 / $1::int', params: [d] }, true).catch(() => 'failed'))), ['failed', [[25]]])
  assert.deepEqual((await Promise.all([5, 0, 10].map((d) => conn.query({ sql: 'SELECT 10 / $1::int', params: [d] }, true).catch(() => 'failed')))), [[[2]], 'failed', [[1]]])
})

test('pipeline: opens a second connection only under concurrency, never more than configured', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 2 })
  t.after(closeAll)
  const one = new Set<number>()
  for (let i = 0; i < 5; i++) one.add(await backend(conn))
  assert.equal(one.size, 1, 'one statement at a time: one connection')
  // Statements of one turn of the event loop share a connection; each later turn's first statement goes to the
  // connection with the fewest in flight, opening the second while the first is busy.
  const many: Promise<number>[] = []
  for (let i = 0; i < 10; i++) {
    many.push(slowBackend(conn), slowBackend(conn))
    await nextTurn()
  }
  assert.equal(new Set(await Promise.all(many)).size, 2)
})

test('pipeline: statements issued in one turn of the event loop leave in one write on one connection', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 2 })
  t.after(closeAll)
  // Both connections open: the second opens in a later turn while the first is busy.
  const slow = slowBackend(conn)
  await nextTurn()
  const other = await backend(conn)
  assert.notEqual(await slow, other)
  await conn.query({ sql: 'SELECT $1::int', params: [0] }, true) // the named statement parsed on one of them
  // Both idle now: a page's statements (a prepared lookup and others) issued in the same turn.
  const writes = countSocketWrites([portOf(url, 5432)])
  const pids = await Promise.all([
    backend(conn),
    conn.query({ sql: 'SELECT $1::int, pg_backend_pid()', params: [1] }, true).then((r) => r[0]![1] as number),
    conn.queryMapped!({ sql: 'SELECT pg_backend_pid() + $1::int', params: [0] }, (r) => r[0]![0] as number),
  ])
  assert.deepEqual(writes.stop(), [1], 'one write for the three statements')
  assert.equal(new Set(pids).size, 1, 'one connection answered them')
  // The next turn balances again: with one connection busy, its statement goes to the other.
  const busy = slowBackend(conn)
  await nextTurn()
  assert.notEqual(await backend(conn), await busy)
})

test('pipeline: statements from separate callbacks of one turn (two requests) leave in one write', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 2 })
  t.after(closeAll)
  await conn.query({ sql: 'SELECT $1::int', params: [0] }, true) // connected, the statement parsed
  const writes = countSocketWrites([portOf(url, 5432)])
  // Two immediates queued together run as separate callbacks of one check phase, as two requests'
  // reads run in one poll phase. (Two timers are not certain to: a millisecond may pass between them.)
  const pids = await new Promise<number[]>((resolve, reject) => {
    const got: Promise<number>[] = []
    const one = (): void => {
      got.push(backend(conn))
      if (got.length === 2) Promise.all(got).then(resolve, reject)
    }
    setImmediate(one)
    setImmediate(one)
  })
  assert.deepEqual(writes.stop(), [1], 'one write for both callbacks\' statements')
  assert.equal(new Set(pids).size, 1, 'one connection answered them')
})

test('pipeline: atomic() runs on a pooled connection, commits and rolls back as before', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const schema = uniqueName('cw_pipe')
  const conn = connect(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`, { pipeline: 1, poolSize: 2 })
  await conn.exec(`CREATE SCHEMA ${schema}`)
  t.after(async () => {
    await conn.exec(`DROP SCHEMA ${schema} CASCADE`)
    await closeAll()
  })
  await conn.exec('CREATE TABLE t (x integer)')
  const outside = await backend(conn)
  const inside = await atomic(async () => {
    await currentExecutor().run({ sql: 'INSERT INTO t VALUES ($1)', params: [1] })
    // Seen inside the transaction, not yet by the pipelined connection.
    assert.deepEqual(await currentExecutor().query({ sql: 'SELECT count(*)::int FROM t', params: [] }), [[1]])
    assert.deepEqual(await conn.query({ sql: 'SELECT count(*)::int FROM t', params: [] }), [[0]])
    return backend(currentExecutor())
  }, { using: conn })
  assert.notEqual(inside, outside)
  await assert.rejects(atomic(async () => {
    await currentExecutor().run({ sql: 'INSERT INTO t VALUES ($1)', params: [2] })
    throw new Error('undo')
  }, { using: conn }), /undo/)
  assert.deepEqual(await conn.query({ sql: 'SELECT x FROM t ORDER BY x', params: [] }), [[1]])
})

test('pipeline: a connection the server drops is replaced', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  const conn = connect(url, { pipeline: 1 })
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  t.after(async () => {
    await admin.end()
    await closeAll()
  })
  const first = await backend(conn)
  await admin.query('SELECT pg_terminate_backend($1)', [first])
  // Statements racing the termination notice may fail like on any dropped connection; the
  // connection is then replaced and statements succeed again.
  let next: number | undefined
  for (let i = 0; i < 100 && next === undefined; i++) {
    try {
      next = await backend(conn)
    } catch (e) {
      assert.match(String(e), /terminat|connection|closed|not queryable|EPIPE|ECONNRESET/i)
    }
  }
  assert.ok(next !== undefined && next !== first, 'served by a new backend')
})

test('pipeline: a server that cannot be reached fails the statement instead of hanging', async (t) => {
  const conn = connect('postgres://nobody@127.0.0.1:1/none', { pipeline: 1, connectTimeout: 2000 })
  t.after(closeAll)
  await assert.rejects(conn.query({ sql: 'SELECT 1', params: [] }))
  await assert.rejects(conn.query({ sql: 'SELECT 1', params: [] }), 'and again on a fresh connection')
})

test('pipeline: an idle pipelined connection does not keep the process alive', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  // A script that queries and never calls closeAll() still exits, as with the pool alone.
  const script = `
    import { connect } from ${JSON.stringify(new URL('../../src/db/index.ts', import.meta.url).href)}
    const conn = connect(${JSON.stringify(url)}, { pipeline: 1 })
    const rows = await conn.query({ sql: 'SELECT 41 + 1', params: [] })
    console.log(JSON.stringify(rows))
  `
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.signal, null, 'exited by itself, not killed at the timeout')
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), '[[42]]')
})
