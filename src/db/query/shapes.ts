// Compiled SQL per query SHAPE. Two query sets that differ only in their values (the id looked up,
// the slug, the expiry compared against, the slice bounds) run the same SQL text with other
// parameters. The first one of a shape is built with Drizzle as always; its text is kept under a
// key made of everything that changes the text — model, dialect, statement kind, each lookup path
// with what its value does to the SQL (NULL, a list's length, isnull's side), ordering, selected
// relations, values() fields, whether limit/offset are set, distinct, FOR UPDATE — and later ones
// only collect their parameters. The statement is then also a prepared one (a named statement on
// PostgreSQL, a cached better-sqlite3 statement on SQLite).
//
// Safety net: when a shape is first built, the parameters collected here must equal the ones
// Drizzle rendered, element for element; otherwise the shape is never cached (it is built every
// time, as before). Values that are not plain scalars or dates (F() expressions, arrays, objects
// the driver would expand) make a query uncacheable up front.
import type { Executor } from '../connection.ts'
import type { Dialect } from '../dialect.ts'
import { likePattern, toColumn } from '../dialect.ts'
import type { FieldMeta, ModelMeta } from '../meta.ts'
import { registryStamp } from '../meta.ts'
import type { WhereNode } from './where.ts'
import { resolvePath, type Resolved } from './resolve.ts'
import { FieldRef } from './expressions.ts'
import { ordering, type QueryState, type Related } from './build.ts'

export type ShapeKind = 'select' | 'count' | 'exists'

export interface Shape {
  readonly sql: string
  /** selectRelated column offsets (select only). */
  readonly related: Related[]
  /** values()/valuesList() fields, resolved (select only). */
  readonly valueFields: FieldMeta[]
  /**
   * Whether to prepare it: not when an `in` list's length is part of the shape, so that lists of
   * many lengths do not each leave a named statement on every connection.
   */
  readonly prepare: boolean
}

/** At most this many shapes per model; beyond it the oldest is forgotten. */
const MAX_SHAPES = 256
const UNCACHEABLE = Symbol('uncacheable')

interface ModelShapes {
  stamp: number
  map: Map<string, Shape | typeof UNCACHEABLE>
}

const cache = new WeakMap<ModelMeta, ModelShapes>()

function shapesOf(meta: ModelMeta): Map<string, Shape | typeof UNCACHEABLE> {
  const stamp = registryStamp()
  let m = cache.get(meta)
  // A model declared since may add reverse relations that change how a path resolves.
  if (!m || m.stamp !== stamp) cache.set(meta, (m = { stamp, map: new Map() }))
  return m.map
}

/** Collects the parameters of one query in the order the compiler emits them. */
class Collector {
  readonly params: unknown[] = []
  key = ''
  ok = true
  variadic = false
  readonly #dialect: Dialect
  readonly #meta: ModelMeta
  constructor(meta: ModelMeta, dialect: Dialect) {
    this.#meta = meta
    this.#dialect = dialect
  }

  where(node: WhereNode): void {
    switch (node.kind) {
      case 'leaf': return this.#leaf(node.resolved ?? resolvePath(this.#meta, node.path, node.value), node.path, node.value)
      case 'not':
        this.key += '!('
        this.where(node.child)
        this.key += ')'
        return
      default:
        this.key += node.kind === 'and' ? '&(' : '|('
        for (const c of node.children) {
          this.where(c)
          this.key += ','
        }
        this.key += ')'
    }
  }

  #scalar(v: unknown): boolean {
    if (v === null || v === undefined) return true
    const t = typeof v
    if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') return true
    return v instanceof Date
  }

  #value(field: FieldMeta, v: unknown): void {
    if (v instanceof FieldRef) {
      this.ok = false
      return
    }
    const p = toColumn(this.#dialect, field, v)
    if (!this.#scalar(p)) this.ok = false
    this.params.push(p)
  }

  // Mirrors Compiler.lookup: which values become parameters, converted the same way.
  #leaf(r: Resolved, path: string, v: unknown): void {
    const field = r.field
    switch (r.lookup) {
      case 'exact':
        this.key += path + (v === null ? '=N' : '=V')
        if (v !== null) this.#value(field, v)
        return
      case 'iexact':
        this.key += path + (v === null ? '=N' : '=V')
        if (v !== null) this.params.push(String(v))
        return
      case 'gt': case 'gte': case 'lt': case 'lte':
        this.key += path + '=V'
        this.#value(field, v)
        return
      case 'isnull':
        this.key += path + (v ? '=T' : '=F')
        return
      case 'range': {
        const [lo, hi] = v as [unknown, unknown]
        this.key += path + '=R'
        this.#value(field, lo)
        this.#value(field, hi)
        return
      }
      case 'in': {
        let n = 0
        for (const x of v as unknown[]) {
          if (x === null) continue
          this.#value(field, x)
          n++
        }
        this.key += `${path}=I${n}`
        this.variadic = true
        return
      }
      case 'contains': case 'startswith': case 'endswith':
        this.key += path + '=V'
        this.params.push(this.#dialect.caseSensitivePattern(String(v), r.lookup))
        return
      case 'icontains': case 'istartswith': case 'iendswith':
        this.key += path + '=V'
        this.params.push(likePattern(String(v), r.lookup.slice(1) as 'contains' | 'startswith' | 'endswith'))
        return
      default:
        this.ok = false
    }
  }

  whereOf(s: QueryState): void {
    for (const w of s.where) {
      this.where(w)
      this.key += ';'
    }
  }

  /** The select part of the key and its LIMIT/OFFSET parameters (as limitSql renders them). */
  select(meta: ModelMeta, s: QueryState, extraLimit: number | undefined): void {
    this.whereOf(s)
    this.key += '#' + ordering(meta, s).join(',')
    if (s.selectRelated.length) this.key += '#R' + s.selectRelated.map((c) => c.join('__')).join(',')
    if (s.values) this.key += '#V' + s.values.fields.join(',')
    if (s.distinct) this.key += '#D'
    if (s.forUpdate) this.key += '#U'
    let limit = s.limit
    if (extraLimit !== undefined) limit = limit === null ? extraLimit : Math.min(limit, extraLimit)
    const off = s.offset
    if (limit === null && !off) this.key += '#-'
    else if (limit === null) {
      this.key += '#o'
      this.params.push(off)
    } else if (off) {
      this.key += '#lo'
      this.params.push(limit, off)
    } else {
      this.key += '#l'
      this.params.push(limit)
    }
  }
}

const sliced = (s: QueryState) => s.limit !== null || s.offset > 0

/** Key and parameters of a query; `undefined` when it cannot be cached. */
export function describeShape(meta: ModelMeta, s: QueryState, dialect: Dialect, kind: ShapeKind, extraLimit?: number): { key: string; params: unknown[]; variadic: boolean } | undefined {
  const c = new Collector(meta, dialect)
  c.key = `${dialect.name}:${kind}:`
  // COUNT and EXISTS of a sliced (or distinct, for COUNT) set wrap the SELECT; otherwise they
  // have only the WHERE clause's parameters.
  if (kind === 'select' || (kind === 'count' && (sliced(s) || s.distinct)) || (kind === 'exists' && sliced(s))) c.select(meta, s, kind === 'select' ? extraLimit : undefined)
  else c.whereOf(s)
  return c.ok ? { key: c.key, params: c.params, variadic: c.variadic } : undefined
}

function sameParams(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    if (x instanceof Date && y instanceof Date ? x.getTime() !== y.getTime() : !Object.is(x, y)) return false
  }
  return true
}

export interface Built {
  sql: string
  params: unknown[]
  related?: Related[]
  valueFields?: FieldMeta[]
}

export interface ShapedQuery {
  sql: string
  params: unknown[]
  related: Related[]
  valueFields: FieldMeta[]
  /** True when the text came from (or went into) the cache: run it as a prepared statement. */
  prepare: boolean
}

const NONE: never[] = []

/**
 * This query's SQL and parameters: the cached text of its shape, or built by `build` (Drizzle)
 * the first time, checked, and cached.
 * @example const q = shapedQuery(meta, state, ex, 'count', () => ex.dialect.render(buildCount(meta, state, ex)))
 */
export function shapedQuery(meta: ModelMeta, s: QueryState, ex: Executor, kind: ShapeKind, build: () => Built, extraLimit?: number): ShapedQuery {
  const d = describeShape(meta, s, ex.dialect, kind, extraLimit)
  const shapes = d === undefined ? undefined : shapesOf(meta)
  const hit = shapes?.get(d!.key)
  if (hit !== undefined && hit !== UNCACHEABLE) return { sql: hit.sql, params: d!.params, related: hit.related, valueFields: hit.valueFields, prepare: hit.prepare }
  const b = build()
  const out = { sql: b.sql, params: b.params, related: b.related ?? NONE, valueFields: b.valueFields ?? NONE, prepare: false }
  if (d === undefined || hit === UNCACHEABLE) return out
  if (shapes!.size >= MAX_SHAPES) shapes!.delete(shapes!.keys().next().value!)
  if (!sameParams(d.params, b.params)) {
    shapes!.set(d.key, UNCACHEABLE)
    return out
  }
  const shape: Shape = { sql: b.sql, related: out.related, valueFields: out.valueFields, prepare: !d.variadic }
  shapes!.set(d.key, shape)
  out.prepare = shape.prepare
  return out
}

/** How many shapes are cached for a model (tests). */
export function cachedShapeCount(meta: ModelMeta): number {
  let n = 0
  for (const v of shapesOf(meta).values()) if (v !== UNCACHEABLE) n++
  return n
}
