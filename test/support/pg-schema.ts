// A throwaway PostgreSQL schema for one test: created, handed over as a `?schema=` URL, and dropped
// afterwards, after every Causeway connection is closed (a pooled connection would hold its locks).
import pg from 'pg'
import { closeAll } from '../../src/db/index.ts'
import { uniqueName } from './services.ts'

/** Runs `fn` with `url` pointed at a fresh schema named after `prefix`; drops it whatever happens. */
export async function withPostgresSchema(url: string, prefix: string, fn: (schemaUrl: string) => Promise<void>): Promise<void> {
  const schema = uniqueName(prefix)
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  try {
    await fn(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`)
  } finally {
    await closeAll()
    await admin.query(`DROP SCHEMA ${schema} CASCADE`)
    await admin.end()
  }
}

/** Drops `schema` (a test file's own, made with uniqueName) over a connection of its own, if it exists. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await admin.end()
  }
}

/** Creates `schema` (drop it with dropSchema) and returns `url` pointed at it (`?schema=`). */
export async function createSchema(url: string, schema: string): Promise<string> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await admin.end()
  }
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`
}
