// INSERT and UPDATE of rows, and building row objects from result arrays.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../connection.ts'
import type { Dialect } from '../dialect.ts'
import { toColumn } from '../dialect.ts'
import type { FieldMeta, ModelMeta } from '../meta.ts'
import { registryStamp } from '../meta.ts'
import { STATE, ensureReverseAccessors, type RowBase } from '../instance.ts'
import { id } from './compiler.ts'

/**
 * A row object from a result array starting at `start`. `accessorsChecked`: the caller already
 * called ensureReverseAccessors for this model (once for a whole result set).
 */
export function instantiate(meta: ModelMeta, dialect: Dialect, arr: unknown[], start = 0, accessorsChecked = false): RowBase {
  const cls = meta.rowClass
  if (!accessorsChecked) ensureReverseAccessors(cls, meta, registryStamp())
  const row = new cls() as unknown as Record<string, unknown>
  const fields = meta.fields
  for (let i = 0; i < fields.length; i++) row[fields[i]!.attname] = dialect.fromDb(fields[i]!, arr[start + i])
  ;(row as unknown as RowBase)[STATE].adding = false
  return row as unknown as RowBase
}

/** Plain values (attname → value) from a result array. */
export function readValues(meta: ModelMeta, dialect: Dialect, arr: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  meta.fields.forEach((fm, i) => (out[fm.attname] = dialect.fromDb(fm, arr[i])))
  return out
}

function dbValue(dialect: Dialect, fm: FieldMeta, v: unknown): unknown {
  return toColumn(dialect, fm, v)
}

const returning = (meta: ModelMeta) => sql.join(meta.fields.map((fm) => id(fm.column)), sql`, `)

/**
 * Inserts rows (one statement per chunk) and returns their stored values (ids, defaults).
 * Missing values take the field default, else NULL.
 */
export async function insertRows(ex: Executor, meta: ModelMeta, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = new Array(rows.length)
  const pk = meta.pk
  // Rows with and without an explicit auto id need different column lists; results go back to
  // their input positions.
  const groups = new Map<boolean, number[]>()
  rows.forEach((r, i) => {
    const explicit = !pk.auto || (r[pk.attname] !== undefined && r[pk.attname] !== null)
    groups.set(explicit, [...(groups.get(explicit) ?? []), i])
  })
  for (const [explicit, indexes] of groups) {
    const group = indexes.map((i) => rows[i]!)
    const fields = meta.fields.filter((fm) => explicit || fm !== pk)
    const chunk = Math.max(1, Math.floor(900 / Math.max(1, fields.length)))
    for (let i = 0; i < group.length; i += chunk) {
      const part = group.slice(i, i + chunk)
      let stmt: SQL
      if (part.length === 1 && fields.length > 0) {
        // One row (create/save): the statement text is cached per model and column set.
        const r = part[0]!
        const params = fields.map((fm) => {
          let v = r[fm.attname]
          if (v === undefined) v = fm.hasDefault ? fm.getDefault() : null
          return dbValue(ex.dialect, fm, v)
        })
        const key = `${ex.dialect.name}:insert:${explicit}`
        let text = shapes(meta).get(key)
        if (!text) {
          text = ex.dialect.render(sql`INSERT INTO ${id(meta.table)} (${sql.join(fields.map((fm) => id(fm.column)), sql`, `)}) VALUES (${sql.join(params.map((p) => sql`${p}`), sql`, `)}) RETURNING ${returning(meta)}`).sql
          shapes(meta).set(key, text)
        }
        const res = await ex.query({ sql: text, params }, true)
        out[indexes[i]!] = readValues(meta, ex.dialect, res[0]!)
        continue
      }
      if (fields.length === 0) {
        stmt = sql`INSERT INTO ${id(meta.table)} DEFAULT VALUES RETURNING ${returning(meta)}`
      } else {
        const values = part.map((r) => sql`(${sql.join(fields.map((fm) => {
          let v = r[fm.attname]
          if (v === undefined) v = fm.hasDefault ? fm.getDefault() : null
          return sql`${dbValue(ex.dialect, fm, v)}`
        }), sql`, `)})`)
        stmt = sql`INSERT INTO ${id(meta.table)} (${sql.join(fields.map((fm) => id(fm.column)), sql`, `)}) VALUES ${sql.join(values, sql`, `)} RETURNING ${returning(meta)}`
      }
      const res = await ex.query(ex.dialect.render(stmt))
      res.forEach((arr, k) => (out[indexes[i + k]!] = readValues(meta, ex.dialect, arr)))
    }
    // PostgreSQL's identity sequence does not see explicit ids; move it past them so later
    // inserts without an id do not collide (Django's sqlsequencereset, done automatically).
    if (explicit && pk.auto && ex.dialect.name === 'postgres') {
      const t = id(meta.table)
      const c = id(pk.column)
      await ex.query(ex.dialect.render(sql`SELECT setval(pg_get_serial_sequence(${`"${meta.table.replace(/"/g, '""')}"`}, ${pk.column}), GREATEST((SELECT MAX(${c}) FROM ${t}), 1))`))
    }
  }
  return out
}

/** UPDATE one row by primary key; returns the number of rows matched. */
export async function updateRow(ex: Executor, meta: ModelMeta, row: Record<string, unknown>, only?: string[]): Promise<number> {
  let fields = meta.fields.filter((fm) => !fm.primaryKey)
  if (only) {
    const names = new Set(only)
    fields = fields.filter((fm) => names.has(fm.name) || names.has(fm.attname))
  }
  if (fields.length === 0) return 1
  const params = [...fields.map((fm) => dbValue(ex.dialect, fm, row[fm.attname])), dbValue(ex.dialect, meta.pk, row[meta.pk.attname])]
  // save() is a hot path: the statement text is cached per model and field list.
  const key = `${ex.dialect.name}:update:${only ? fields.map((fm) => fm.name).join(',') : '*'}`
  let text = shapes(meta).get(key)
  if (!text) {
    const sets = sql.join(fields.map((fm, i) => sql`${id(fm.column)} = ${params[i]}`), sql`, `)
    text = ex.dialect.render(sql`UPDATE ${id(meta.table)} SET ${sets} WHERE ${id(meta.pk.column)} = ${params.at(-1)}`).sql
    shapes(meta).set(key, text)
  }
  return ex.run({ sql: text, params }, true)
}

const shapeCache = new WeakMap<ModelMeta, Map<string, string>>()
function shapes(meta: ModelMeta): Map<string, string> {
  let m = shapeCache.get(meta)
  if (!m) shapeCache.set(meta, (m = new Map()))
  return m
}
