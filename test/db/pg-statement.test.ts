// Named statements on PostgreSQL (pg-statement.ts) through each executor — the pool, a pipelined
// connection, a transaction's client: a connection describes a statement only when it parses it,
// later executions decode their rows with the remembered parsers, and errors leave the statement
// and the connection usable.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, atomic, currentExecutor, type Executor, type ConnectOptions } from '../../src/db/index.ts'
import pg from 'pg'
import { PgStatement, bindExecuteSync } from '../../src/db/pg-statement.ts'
import { needPostgres } from '../support/services.ts'
import { withPostgresSchema } from '../support/pg-schema.ts'

const modes: [string, ConnectOptions, boolean][] = [
  ['pool', { poolSize: 1 }, false],
  ['pipeline', { pipeline: 1, poolSize: 1 }, false],
  ['transaction', { poolSize: 1 }, true],
]

for (const [mode, options, inTransaction] of modes) {
  test(`named statements (${mode}): described once per connection, rows typed every time, errors recover`, async (t) => {
    const url = await needPostgres(t)
    if (!url) return
    await withPostgresSchema(url, 'cw_stmt', async (schemaUrl) => {
      const conn = connect(schemaUrl, options)
      await conn.exec('CREATE TABLE t (id integer PRIMARY KEY, at timestamptz)')
      const body = async (ex: Executor): Promise<void> => {
        const described: string[] = []
        const original = PgStatement.prototype.describe
        PgStatement.prototype.describe = function (this: PgStatement, fields) {
          described.push(this.text)
          return original.call(this, fields)
        }
        try {
          const sql = 'SELECT $1::int8 AS n, $2::timestamptz AS at, $3::date AS d, NULL::text AS nothing, $4::numeric AS price'
          const at = new Date('2026-11-21T18:13:15.123Z')
          for (let i = 0; i < 3; i++) assert.deepEqual(await ex.query({ sql, params: [i, at, '2026-01-02', '19.90'] }, true), [[i, at, '2026-01-02', null, '19.90']])
          assert.deepEqual(described, [sql], 'described on the first execution only')
          // No rows, then rows, from the same statement.
          const some = 'SELECT g FROM generate_series(1, $1::int) AS g'
          assert.deepEqual(await ex.query({ sql: some, params: [0] }, true), [])
          assert.deepEqual(await ex.query({ sql: some, params: [3] }, true), [[1], [2], [3]])
          // Affected-row counts from prepared writes.
          assert.equal(await ex.run({ sql: 'INSERT INTO t (id, at) SELECT g, $1::timestamptz FROM generate_series(1, $2::int) AS g', params: [at, 3] }, true), 3)
          assert.equal(await ex.run({ sql: 'UPDATE t SET at = $1 WHERE id >= $2', params: [null, 2] }, true), 2)
          assert.deepEqual(await ex.query({ sql: 'SELECT id, at FROM t WHERE id <= $1 ORDER BY id', params: [9] }, true), [[1, at], [2, null], [3, null]])
          // A server error while executing, then the same statement again.
          const div = 'SELECT 10 / $1::int'
          if (!inTransaction) {
            await assert.rejects(ex.query({ sql: div, params: [0] }, true), /division by zero/)
            assert.deepEqual(await ex.query({ sql: div, params: [5] }, true), [[2]])
          }
          // A value that cannot be sent fails before anything reaches the server.
          const bad = { toPostgres: () => { throw new Error('no way to send this') } }
          await assert.rejects(ex.query({ sql: div, params: [bad] }, true), /no way to send this/)
          assert.deepEqual(await ex.query({ sql: div, params: [2] }, true), [[5]])
        } finally {
          PgStatement.prototype.describe = original
        }
      }
      if (inTransaction) await atomic(() => body(currentExecutor()), { using: conn })
      else await body(conn)
    })
  })
}

test('named statements: past statementCacheSize a text runs unnamed, with the same results', async (t) => {
  const url = await needPostgres(t)
  if (!url) return
  await withPostgresSchema(url, 'cw_stmt', async (schemaUrl) => {
    const conn = connect(schemaUrl, { poolSize: 1, statementCacheSize: 1 })
    assert.deepEqual(await conn.query({ sql: 'SELECT $1::int + 1', params: [1] }, true), [[2]])
    for (let i = 0; i < 2; i++) assert.deepEqual(await conn.query({ sql: 'SELECT $1::int8 * 2, $2::timestamptz', params: [21, new Date(0)] }, true), [[42, new Date(0)]])
    assert.equal(await conn.run({ sql: 'SELECT generate_series(1, $1::int)', params: [4] }, true), 4)
  })
})

test('bindExecuteSync: byte for byte what pg-protocol writes for Bind, Execute and Sync', async () => {
  const { serialize } = await import('pg-protocol')
  const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue
  const cases: unknown[][] = [[], [1, 'two', null, undefined], ['naïve – ✓ 🎉', new Date('2026-11-21T18:13:15.123Z'), true, 12.5], [Buffer.from([0, 1, 2, 255]), [1, 2, 3], { a: 'b' }, 2n ** 70n], ['x'.repeat(70_000)], ['y'.repeat(256), 'z'.repeat(257), 'é'.repeat(200), '']]
  for (const [i, values] of cases.entries()) {
    for (const name of ['cw_1', 'cw_12345']) {
      const expected = Buffer.concat([serialize.bind({ portal: '', statement: name, values, binary: false, valueMapper: prepareValue as never }), serialize.execute({ portal: '' }), serialize.sync()])
      assert.ok(bindExecuteSync(name, values).equals(expected), `case ${i}, ${name}`)
    }
  }
})
