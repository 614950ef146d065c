// The shared session suite on the database backend (PostgreSQL, a schema of its own).
import { after } from 'node:test'
import { connect, setConnection, closeAll } from '../../src/db/index.ts'
import { migrateBuiltins } from '../../src/web/auth/builtins.ts'
import { DbSessionStore } from '../../src/web/sessions/db-store.ts'
import { needPostgres, uniqueName } from '../support/services.ts'
import { sessionSuite } from './sessions-suite.ts'
import { dropSchema } from '../support/pg-schema.ts'

const schema = uniqueName('cw_sessions')
let ready: Promise<boolean> | undefined
function setup(): Promise<boolean> {
  return (ready ??= (async () => {
    const url = await needPostgres()
    if (!url) return false
    const admin = connect(url)
    await admin.exec(`CREATE SCHEMA ${schema}`)
    await admin.close()
    setConnection(connect(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`))
    await migrateBuiltins({ permissions: false })
    return true
  })().catch(() => false))
}

after(async () => {
  await closeAll()
  const url = await needPostgres().catch(() => undefined)
  if (url) await dropSchema(url, schema)
})

sessionSuite('db (PostgreSQL)', async () => ((await setup()) ? { store: new DbSessionStore() } : undefined))
