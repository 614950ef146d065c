// The model/query suite on PostgreSQL, in a schema of its own (search_path), dropped at the end.
// Each caller is its own test file (process): the suite checks the per-process shape cache from empty.
import { test } from 'node:test'
import { connect, setConnection, createTables, type ConnectOptions } from '../../src/db/index.ts'
import { needPostgres } from '../support/services.ts'
import { withPostgresSchema } from '../support/pg-schema.ts'
import { modelSuite, ALL } from './suite.ts'

export function postgresSuite(name: string, options: ConnectOptions): void {
  test(name, async (t) => {
    const url = await needPostgres(t)
    if (!url) return
    await withPostgresSchema(url, 'cw_db', async (schemaUrl) => {
      const conn = connect(schemaUrl, options)
      setConnection(conn)
      await createTables(ALL, conn)
      await modelSuite(t, conn)
    })
  })
}
