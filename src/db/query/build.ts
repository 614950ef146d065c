// SQL for a query set's state: SELECT (with selectRelated joins), COUNT, EXISTS, aggregates and
// UPDATE. Pure functions of (model, state, dialect), so QuerySet stays about the chain API.
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../connection.ts'
import type { FieldMeta, ModelMeta } from '../meta.ts'
import { toColumn } from '../dialect.ts'
import { Compiler, id } from './compiler.ts'
import type { WhereNode } from './where.ts'
import type { Aggregate } from './aggregates.ts'
import { FieldError } from '../errors.ts'
import { FieldRef } from './expressions.ts'
import { instantiate } from './write.ts'
import { STATE, ensureReverseAccessors, type RowBase } from '../instance.ts'
import { registryStamp } from '../meta.ts'

export interface QueryState {
  where: WhereNode[]
  order: string[] | null
  limit: number | null
  offset: number
  selectRelated: string[][]
  prefetch: string[]
  values: { fields: string[]; mode: 'objects' | 'list' | 'flat' } | null
  distinct: boolean
  none: boolean
  forUpdate: boolean
}

export const EMPTY: QueryState = { where: [], order: null, limit: null, offset: 0, selectRelated: [], prefetch: [], values: null, distinct: false, none: false, forUpdate: false }

export interface Related {
  chain: string[]
  /** Index of the related model's first column in the select list. */
  start: number
}

export function ordering(meta: ModelMeta, s: QueryState): string[] {
  return s.order ?? meta.ordering
}

export const sliced = (s: QueryState) => s.limit !== null || s.offset > 0

function compileWhere(c: Compiler, s: QueryState): SQL | undefined {
  if (s.where.length === 0) return undefined
  return s.where.length === 1 ? c.where(s.where[0]!) : c.where({ kind: 'and', children: s.where })
}

function limitSql(ex: Executor, s: QueryState, extraLimit?: number): SQL {
  let limit = s.limit
  if (extraLimit !== undefined) limit = limit === null ? extraLimit : Math.min(limit, extraLimit)
  const off = s.offset
  if (limit === null && !off) return sql``
  if (limit === null) return ex.dialect.name === 'sqlite' ? sql` LIMIT -1 OFFSET ${off}` : sql` OFFSET ${off}`
  return off ? sql` LIMIT ${limit} OFFSET ${off}` : sql` LIMIT ${limit}`
}

/** FROM … JOIN … WHERE … for the state (joins come from the where clause and anything compiled before). */
function fromWhere(meta: ModelMeta, c: Compiler, where: SQL | undefined): SQL {
  return sql`${id(meta.table)}${sql.join(c.joins)}${where ? sql` WHERE ${where}` : sql``}`
}

export function buildSelect(meta: ModelMeta, s: QueryState, ex: Executor, extraLimit?: number): { stmt: SQL; related: Related[] } {
  const c = new Compiler(meta, ex.dialect)
  const where = compileWhere(c, s)
  let cols: SQL[]
  const related: Related[] = []
  if (s.values) {
    cols = s.values.fields.map((p) => c.pathColumn(p).col)
  } else {
    cols = c.columns(meta, c.alias)
    for (const chain of s.selectRelated) {
      let alias = c.alias
      let m = meta
      // Each prefix of the chain is selected once (category, then category__parent).
      for (let i = 0; i < chain.length; i++) {
        const fm = m.field(chain[i]!)!
        alias = c.join(alias, fm)
        m = fm.target!
        const key = chain.slice(0, i + 1).join('__')
        if (!related.some((r) => r.chain.join('__') === key)) {
          related.push({ chain: chain.slice(0, i + 1), start: cols.length })
          cols = cols.concat(c.columns(m, alias))
        }
      }
    }
  }
  const order = c.orderBy(ordering(meta, s))
  const stmt = sql`SELECT ${s.distinct ? sql`DISTINCT ` : sql``}${sql.join(cols, sql`, `)} FROM ${fromWhere(meta, c, where)}${order.length ? sql` ORDER BY ${sql.join(order, sql`, `)}` : sql``}${limitSql(ex, s, extraLimit)}${forUpdate(meta, s, ex)}`
  return { stmt, related }
}

// Row locks exist on PostgreSQL only; SQLite's BEGIN IMMEDIATE already serialises writers.
function forUpdate(meta: ModelMeta, s: QueryState, ex: Executor): SQL {
  return s.forUpdate && ex.dialect.name === 'postgres' ? sql` FOR UPDATE OF ${id(meta.table)}` : sql``
}

export function buildCount(meta: ModelMeta, s: QueryState, ex: Executor): SQL {
  if (sliced(s) || s.distinct) return sql`SELECT COUNT(*) FROM (${buildSelect(meta, s, ex).stmt}) ${id('cw_sub')}`
  const c = new Compiler(meta, ex.dialect)
  const where = compileWhere(c, s)
  return sql`SELECT COUNT(*) FROM ${fromWhere(meta, c, where)}`
}

export function buildExists(meta: ModelMeta, s: QueryState, ex: Executor): SQL {
  if (sliced(s)) return sql`SELECT 1 FROM (${buildSelect(meta, s, ex).stmt}) ${id('cw_sub')} LIMIT 1`
  const c = new Compiler(meta, ex.dialect)
  const where = compileWhere(c, s)
  return sql`SELECT 1 FROM ${fromWhere(meta, c, where)} LIMIT 1`
}

const NUMERIC = new Set(['integer', 'bigInteger', 'decimal', 'auto', 'bigAuto'])

/** The aggregate SELECT and a reader that converts its one row to `{ name: value }`. */
export function buildAggregate(meta: ModelMeta, s: QueryState, ex: Executor, spec: Record<string, Aggregate>): { stmt: SQL; read: (row: unknown[]) => Record<string, unknown> } {
  const c = new Compiler(meta, ex.dialect)
  const where = compileWhere(c, s)
  const entries = Object.entries(spec)
  const fields: (FieldMeta | undefined)[] = []
  const cols = entries.map(([, a]) => {
    if (!a.path) {
      fields.push(undefined)
      return sql`COUNT(*)`
    }
    const { col, field } = c.pathColumn(a.path)
    fields.push(field)
    if ((a.fn === 'sum' || a.fn === 'avg') && !NUMERIC.has(field.kind)) {
      throw new FieldError(`${meta.label}: ${a.fn}('${a.path}') needs a numeric field, '${field.name}' is ${field.kind}`)
    }
    const fn = sql.raw(a.fn.toUpperCase())
    return a.distinct ? sql`${fn}(DISTINCT ${col})` : sql`${fn}(${col})`
  })
  const stmt = sql`SELECT ${sql.join(cols, sql`, `)} FROM ${fromWhere(meta, c, where)}`
  const read = (row: unknown[]) => {
    const out: Record<string, unknown> = {}
    entries.forEach(([name, a], i) => {
      const v = row[i]
      const field = fields[i]
      if (v === null || v === undefined) out[name] = a.fn === 'count' ? 0 : null
      else if (a.fn === 'count' || a.fn === 'avg') out[name] = Number(v)
      // Decimal sums stay exact strings with the field's places (SQLite sums as float).
      else if (field && field.kind === 'decimal') out[name] = ex.dialect.fromDb(field, typeof v === 'string' ? v : Number(v))
      else if (a.fn === 'sum') out[name] = Number(v)
      else out[name] = field ? ex.dialect.fromDb(field, v) : v
    })
    return out
  }
  return { stmt, read }
}

/** UPDATE … SET … for the state; filters that need joins become `pk IN (SELECT …)`. */
export function buildUpdate(meta: ModelMeta, s: QueryState, ex: Executor, values: Record<string, unknown>): SQL | undefined {
  // SET expressions (F) may only name this table's columns: compile them before the joins.
  const setCompiler = new Compiler(meta, ex.dialect)
  const sets = Object.entries(values).map(([k, v]) => {
    const fm = meta.field(k)
    if (!fm || fm.kind === 'manyToMany') throw new FieldError(`${meta.label}: update(): unknown field '${k}'. Choices are: ${meta.fields.map((x) => x.name).join(', ')}`)
    if (fm.primaryKey) throw new FieldError(`${meta.label}: update() cannot change the primary key`)
    if (v instanceof FieldRef) {
      const expr = setCompiler.expression(v)
      if (setCompiler.hasJoins()) throw new FieldError(`${meta.label}: update(): F('${v.path}') cannot refer to a related model`)
      return sql`${id(fm.column)} = ${expr}`
    }
    return sql`${id(fm.column)} = ${toColumn(ex.dialect, fm, v)}`
  })
  if (sets.length === 0) return undefined
  const c = new Compiler(meta, ex.dialect)
  const where = compileWhere(c, s)
  const table = id(meta.table)
  let cond = where ? sql` WHERE ${where}` : sql``
  if (c.hasJoins()) cond = sql` WHERE ${id(meta.pk.column)} IN (SELECT ${c.col(c.alias, meta.pk)} FROM ${fromWhere(meta, c, where)})`
  return sql`UPDATE ${table} SET ${sql.join(sets, sql`, `)}${cond}`
}

/** Rows (or values) from result arrays, with selectRelated rows attached. */
export function readRows(meta: ModelMeta, s: QueryState, ex: Executor, rows: unknown[][], related: Related[], valueFields: FieldMeta[]): unknown[] {
  const v = s.values
  if (v) {
    const conv = (arr: unknown[], i: number) => ex.dialect.fromDb(valueFields[i]!, arr[i])
    if (v.mode === 'flat') return rows.map((arr) => conv(arr, 0))
    if (v.mode === 'list') return rows.map((arr) => arr.map((_, i) => conv(arr, i)))
    return rows.map((arr) => Object.fromEntries(v.fields.map((f, i) => [f, conv(arr, i)])))
  }
  ensureReverseAccessors(meta.rowClass, meta, registryStamp())
  const out: RowBase[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const arr = rows[i]!
    const row = instantiate(meta, ex.dialect, arr, 0, true)
    for (const r of related) attachRelated(row, meta, r.chain, ex, arr, r.start)
    out[i] = row
  }
  return out
}

function attachRelated(row: RowBase, meta: ModelMeta, chain: string[], ex: Executor, arr: unknown[], start: number): void {
  let parent = row
  let m = meta
  for (let i = 0; i < chain.length - 1; i++) {
    parent = parent[STATE].related.get(chain[i]!) as RowBase
    m = m.field(chain[i]!)!.target!
    if (!parent) return
  }
  const fm = m.field(chain.at(-1)!)!
  const target = fm.target!
  const pkIndex = target.fields.indexOf(target.pk)
  const value = arr[start + pkIndex] === null ? null : instantiate(target, ex.dialect, arr, start)
  parent[STATE].related.set(fm.name, value)
}
