// What differs between SQLite and PostgreSQL: column types, value conversion in and out, pattern
// matching, and the Drizzle dialect that renders `sql` templates with the right placeholders.
import { sql, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { FieldKind } from './fields.ts'
import type { FieldMeta } from './meta.ts'
import { BadValueError } from './errors.ts'

export type DialectName = 'sqlite' | 'postgres'

export interface Query {
  sql: string
  params: unknown[]
}

/** A field's storage shape, independent of its model (migrations carry these). */
export interface ColumnShape {
  kind: FieldKind
  maxLength?: number
  maxDigits?: number
  decimalPlaces?: number
}

export interface Dialect {
  readonly name: DialectName
  /** Renders a Drizzle `sql` template to text + params with this dialect's placeholders. */
  render(q: SQL): Query
  /** The column type in DDL. */
  columnType(shape: ColumnShape, forReference?: boolean): string
  toDb(kind: FieldKind, value: unknown): unknown
  fromDb(field: FieldMeta, value: unknown): unknown
  /** Case-sensitive pattern match; `pattern` uses % and _ with \ escapes (LIKE syntax). */
  likeCaseSensitive(col: SQL, value: string, mode: 'contains' | 'startswith' | 'endswith'): SQL
  /** The parameter likeCaseSensitive() compares against (a GLOB or a LIKE pattern). */
  caseSensitivePattern(value: string, mode: 'contains' | 'startswith' | 'endswith'): string
}

export const q = (name: string) => `"${name.replace(/"/g, '""')}"`

export function escapeLike(v: string): string {
  return v.replace(/[\\%_]/g, (c) => `\\${c}`)
}

function pattern(v: string, mode: 'contains' | 'startswith' | 'endswith' | 'exact', esc: (s: string) => string, any: string): string {
  const e = esc(v)
  return mode === 'contains' ? `${any}${e}${any}` : mode === 'startswith' ? `${e}${any}` : mode === 'endswith' ? `${any}${e}` : e
}

export function likePattern(v: string, mode: 'contains' | 'startswith' | 'endswith'): string {
  return pattern(v, mode, escapeLike, '%')
}

function isoDate(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString().slice(0, 10)
  return v
}

function toDate(v: unknown): Date {
  const d = v instanceof Date ? v : new Date(v as string)
  if (Number.isNaN(d.getTime())) throw new TypeError(`invalid date-time value ${JSON.stringify(v)}`)
  return d
}

function decimalOut(field: FieldMeta, v: unknown): unknown {
  if (v === null || v === undefined) return null
  const places = field.options.decimalPlaces ?? 0
  if (typeof v === 'number') return v.toFixed(places)
  return v
}

class SqliteDialect implements Dialect {
  readonly name = 'sqlite' as const
  #d = new SQLiteSyncDialect()
  render(s: SQL): Query {
    const r = this.#d.sqlToQuery(s)
    return { sql: r.sql, params: r.params }
  }
  columnType(c: ColumnShape, ref = false): string {
    switch (c.kind) {
      case 'auto': case 'bigAuto': return ref ? 'integer' : 'integer'
      case 'char': case 'slug': case 'email': case 'url': return `varchar(${c.maxLength ?? 255})`
      case 'text': return 'text'
      case 'integer': return 'integer'
      case 'bigInteger': return 'bigint'
      case 'decimal': return `decimal(${c.maxDigits}, ${c.decimalPlaces})`
      case 'boolean': return 'bool'
      case 'date': return 'date'
      case 'dateTime': return 'datetime'
      case 'json': return 'text'
      case 'uuid': return 'char(36)'
      default: throw new Error(`no column type for ${c.kind}`)
    }
  }
  toDb(kind: FieldKind, v: unknown): unknown {
    if (v === null || v === undefined) return null
    switch (kind) {
      case 'boolean': return v ? 1 : 0
      case 'dateTime': return toDate(v).toISOString()
      case 'date': return isoDate(v)
      case 'json': return JSON.stringify(v)
      case 'decimal': return typeof v === 'number' ? String(v) : v
      default:
        if (typeof v === 'boolean') return v ? 1 : 0
        if (v instanceof Date) return v.toISOString()
        return v
    }
  }
  fromDb(field: FieldMeta, v: unknown): unknown {
    if (v === null || v === undefined) return null
    switch (field.kind) {
      case 'boolean': return v === 1 || v === true || v === '1'
      case 'dateTime': return new Date(v as string)
      case 'json': return typeof v === 'string' ? JSON.parse(v) : v
      case 'decimal': return decimalOut(field, v)
      case 'date': return String(v)
      default: return v
    }
  }
  likeCaseSensitive(col: SQL, value: string, mode: 'contains' | 'startswith' | 'endswith'): SQL {
    return sql`${col} GLOB ${this.caseSensitivePattern(value, mode)}`
  }
  // SQLite's LIKE ignores ASCII case, so case-sensitive matching uses GLOB with its own escapes.
  caseSensitivePattern(value: string, mode: 'contains' | 'startswith' | 'endswith'): string {
    return pattern(value, mode, (s) => s.replace(/[*?[\]]/g, (c) => `[${c}]`), '*')
  }
}

class PostgresDialect implements Dialect {
  readonly name = 'postgres' as const
  #d = new PgDialect()
  render(s: SQL): Query {
    const r = this.#d.sqlToQuery(s)
    return { sql: r.sql, params: r.params }
  }
  columnType(c: ColumnShape, ref = false): string {
    switch (c.kind) {
      case 'auto': return ref ? 'integer' : 'integer GENERATED BY DEFAULT AS IDENTITY'
      case 'bigAuto': return ref ? 'bigint' : 'bigint GENERATED BY DEFAULT AS IDENTITY'
      case 'char': case 'slug': case 'email': case 'url': return `varchar(${c.maxLength ?? 255})`
      case 'text': return 'text'
      case 'integer': return 'integer'
      case 'bigInteger': return 'bigint'
      case 'decimal': return `numeric(${c.maxDigits}, ${c.decimalPlaces})`
      case 'boolean': return 'boolean'
      case 'date': return 'date'
      case 'dateTime': return 'timestamp with time zone'
      case 'json': return 'jsonb'
      case 'uuid': return 'uuid'
      default: throw new Error(`no column type for ${c.kind}`)
    }
  }
  toDb(kind: FieldKind, v: unknown): unknown {
    if (v === null || v === undefined) return null
    switch (kind) {
      case 'dateTime': return toDate(v)
      case 'date': return isoDate(v)
      // pg would send a JS array as a PostgreSQL array; jsonb wants JSON text.
      case 'json': return JSON.stringify(v)
      case 'decimal': return typeof v === 'number' ? String(v) : v
      default: return v
    }
  }
  fromDb(field: FieldMeta, v: unknown): unknown {
    if (v === null || v === undefined) return null
    switch (field.kind) {
      case 'decimal': return decimalOut(field, v)
      case 'dateTime': return v instanceof Date ? v : new Date(v as string)
      case 'integer': case 'bigInteger': case 'auto': case 'bigAuto': return typeof v === 'string' ? Number(v) : v
      case 'foreignKey': return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
      default: return v
    }
  }
  likeCaseSensitive(col: SQL, value: string, mode: 'contains' | 'startswith' | 'endswith'): SQL {
    return sql`${col} LIKE ${this.caseSensitivePattern(value, mode)} ESCAPE '\\'`
  }
  caseSensitivePattern(value: string, mode: 'contains' | 'startswith' | 'endswith'): string {
    return likePattern(value, mode)
  }
}

export const dialects: Record<DialectName, Dialect> = { sqlite: new SqliteDialect(), postgres: new PostgresDialect() }

const INT = /^-?\d+$/
const DEC = /^-?(\d+(\.\d*)?|\.\d+)$/
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
const DATE = /^\d{4}-\d{2}-\d{2}$/

// Outside cleanValue: a closure made on every call would cost more than the check itself.
function badValue(field: FieldMeta, v: unknown, what: string): BadValueError {
  return new BadValueError(`${field.model.label}.${field.name} expects ${what}, got ${JSON.stringify(v)?.slice(0, 100) ?? String(v)}`)
}

/**
 * Checks (and normalises) a value for a field before it reaches SQL, so both dialects reject the
 * same bad input with the same error instead of SQLite comparing anything with anything.
 */
export function cleanValue(field: FieldMeta, kind: FieldKind, v: unknown): unknown {
  if (v === null || v === undefined) return v
  switch (kind) {
    case 'integer': case 'bigInteger': case 'auto': case 'bigAuto':
      if (typeof v === 'number' && Number.isInteger(v)) return v
      if (typeof v === 'bigint') return Number(v)
      if (typeof v === 'string' && INT.test(v.trim())) return Number(v)
      throw badValue(field, v, 'an integer')
    case 'decimal':
      if (typeof v === 'number' && Number.isFinite(v)) return v
      if (typeof v === 'string' && DEC.test(v.trim())) return v.trim()
      throw badValue(field, v, 'a decimal number')
    case 'boolean':
      if (typeof v === 'boolean') return v
      if (v === 0 || v === 1) return v === 1
      throw badValue(field, v, 'true or false')
    case 'uuid':
      if (typeof v === 'string' && UUID.test(v)) return v
      throw badValue(field, v, 'a UUID')
    case 'date':
      if (v instanceof Date && !Number.isNaN(v.getTime())) return v
      if (typeof v === 'string' && DATE.test(v) && !Number.isNaN(Date.parse(v))) return v
      throw badValue(field, v, "a date 'YYYY-MM-DD'")
    case 'dateTime':
      if (v instanceof Date && !Number.isNaN(v.getTime())) return v
      if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return v
      throw badValue(field, v, 'a date-time')
    case 'char': case 'slug': case 'email': case 'url': case 'text':
      if (typeof v === 'string') return v
      if (typeof v === 'number' || typeof v === 'boolean') return String(v)
      throw badValue(field, v, 'a string')
    default:
      return v
  }
}

/** The kind whose storage a field uses: FKs store their target field's kind (non-auto). */
export function storageKind(field: FieldMeta): FieldKind {
  if (field.kind !== 'foreignKey') return field.kind
  const t = field.targetField!
  return t.kind === 'auto' ? 'integer' : t.kind === 'bigAuto' ? 'bigInteger' : storageKind(t)
}

/** The primary key value of a row object, or the value itself. */
export function pkValue(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v)) {
    const meta = (v.constructor as { meta?: { pk: { attname: string } } }).meta
    if (meta) return (v as Record<string, unknown>)[meta.pk.attname]
  }
  return v
}

/** A JS value checked and converted for a field's column (row objects become their key). */
export function toColumn(dialect: Dialect, field: FieldMeta, v: unknown): unknown {
  const kind = storageKind(field)
  const raw = field.kind === 'foreignKey' || field.primaryKey ? pkValue(v) : v
  return dialect.toDb(kind, cleanValue(field, kind, raw))
}
