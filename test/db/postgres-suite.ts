// The model/query suite on PostgreSQL, in a schema of its own (search_path), dropped at the end.
// Each caller is its own test file (process): the suite checks the per-process shape cache from empty.
import { test } from 'node:test'
import pg from 'pg'
import { connect, setConnection, createTables, closeAll, type ConnectOptions } from '../../src/db/index.ts'
import { needPostgres, uniqueName } from '../support/services.ts'
import { modelSuite, ALL } from './suite.ts'

export function postgresSuite(name: string, options: ConnectOptions): void {
  test(name, async (t) => {
    const url = await needPostgres(t)
    if (!url) return
    const schema = uniqueName('cw_db')
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    try {
      const conn = connect(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`, options)
      setConnection(conn)
      await createTables(ALL, conn)
      await modelSuite(t, conn)
    } finally {
      await closeAll()
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    }
  })
}
