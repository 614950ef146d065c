// QuerySet: lazy, chainable, immutable. Nothing runs until it is awaited, iterated, counted, or a
// terminal method (get, first, update, delete, aggregate…) is called. Each chain method returns a
// clone, so a base query set can be shared safely.
import type { Executor } from './connection.ts'
import type { AnyModel, Data, Lookup, Row, CreateInput, UpdateInput } from './types.ts'
import type { ModelMeta } from './meta.ts'
import type { Query } from './dialect.ts'
import { toColumn } from './dialect.ts'
import { currentExecutor, atomic, inTransaction } from './transaction.ts'
import { pkValue } from './query/compiler.ts'
import { EMPTY, buildAggregate, buildCount, buildExists, buildSelect, buildUpdate, ordering, readRows, type QueryState } from './query/build.ts'
import { shapedQuery } from './query/shapes.ts'
import type { FieldMeta } from './meta.ts'
import { bindCondition, q, type Condition, type WhereNode } from './query/where.ts'
import { resolvePath } from './query/resolve.ts'
import type { Aggregate, AggregateResult } from './query/aggregates.ts'
import { DoesNotExist, FieldError, MultipleObjectsReturned, UsageError, isIntegrity } from './errors.ts'
import { STATE, preSave, type RowBase } from './instance.ts'
import { insertRows } from './query/write.ts'
import { collectAndDelete, type DeleteResult } from './deletion.ts'
import { prefetch, relationTarget } from './prefetch.ts'

const MAX_GET_RESULTS = 21
const NO_RELATED: never[] = []
const NO_FIELDS: FieldMeta[] = []

/** `get({ field: value })` on a unique field: its SQL text per model, dialect and field. */
const getShapes = new WeakMap<ModelMeta, Record<string, Map<FieldMeta, string>>>()

export class QuerySet<M extends AnyModel, R = Row<M>> implements PromiseLike<R[]>, AsyncIterable<R> {
  readonly model: M
  readonly #s: QueryState
  #cache: R[] | undefined

  constructor(model: M, state: QueryState = EMPTY, cache?: R[]) {
    this.model = model
    this.#s = state
    this.#cache = cache
  }

  get meta(): ModelMeta {
    return this.model.meta
  }

  #clone<R2 = R>(patch: Partial<QueryState>): QuerySet<M, R2> {
    return new QuerySet<M, R2>(this.model, { ...this.#s, ...patch })
  }

  #notSliced(what: string): void {
    if (this.#s.limit !== null || this.#s.offset) throw new UsageError(`${this.meta.label}: cannot ${what} a query set once it has been sliced`)
  }

  // ---- chain ----------------------------------------------------------------------------------

  /** @internal A copy whose results are already known (prefetched relations). */
  withResults(rows: R[]): QuerySet<M, R> {
    return new QuerySet<M, R>(this.model, this.#s, rows)
  }

  /** A copy of this query set (a fresh result cache). */
  all(): QuerySet<M, R> {
    return this.#clone({})
  }

  /** Keep rows matching every condition. Unknown fields/lookups throw FieldError now. */
  filter(...conds: (Lookup<M> | WhereNode)[]): QuerySet<M, R> {
    this.#notSliced('filter')
    return this.#clone({ where: [...this.#s.where, ...conds.map((c) => bindCondition(this.meta, c as Condition))] })
  }

  /** Drop rows matching all the conditions (rows where the condition is NULL are kept, as in Django). */
  exclude(...conds: (Lookup<M> | WhereNode)[]): QuerySet<M, R> {
    this.#notSliced('exclude')
    if (conds.length === 0) return this.#clone({})
    return this.#clone({ where: [...this.#s.where, bindCondition(this.meta, q.not(q.and(...(conds as Condition[]))))] })
  }

  /** No rows, without querying. */
  none(): QuerySet<M, R> {
    return this.#clone({ none: true })
  }

  /** `orderBy('-price', 'name')`; replaces the model's default ordering. `orderBy()` removes ordering. */
  orderBy(...terms: string[]): QuerySet<M, R> {
    for (const t of terms) resolvePath(this.meta, t.replace(/^-/, ''), undefined, true)
    return this.#clone({ order: terms })
  }

  /** Reverses the current ordering (default: the model's, else the primary key). */
  reverse(): QuerySet<M, R> {
    const order = this.#ordering().map((t) => (t.startsWith('-') ? t.slice(1) : `-${t}`))
    return this.#clone({ order })
  }

  /** Rows [start, end), like Python's slice; combine with count() to paginate. */
  slice(start: number, end?: number): QuerySet<M, R> {
    if (!Number.isInteger(start) || start < 0 || (end !== undefined && (!Number.isInteger(end) || end < start))) {
      throw new UsageError(`${this.meta.label}: slice(${start}, ${end}) needs integers 0 <= start <= end (negative indexing is not supported)`)
    }
    const offset = this.#s.offset + start
    let limit = end === undefined ? this.#s.limit : end - start
    if (this.#s.limit !== null) {
      const remaining = Math.max(0, this.#s.limit - start)
      limit = limit === null ? remaining : Math.min(limit, remaining)
    }
    return this.#clone({ offset, limit })
  }

  limit(n: number): QuerySet<M, R> {
    return this.slice(0, n)
  }

  offset(n: number): QuerySet<M, R> {
    return this.slice(n)
  }

  distinct(): QuerySet<M, R> {
    return this.#clone({ distinct: true })
  }

  /**
   * Lock the selected rows until the transaction ends (SELECT … FOR UPDATE on PostgreSQL; on
   * SQLite the transaction already holds the write lock). Only inside atomic().
   */
  selectForUpdate(): QuerySet<M, R> {
    return this.#clone({ forUpdate: true })
  }

  /** Follow foreign keys in the same query (LEFT JOIN): `selectRelated('category', 'category__parent')`. */
  selectRelated(...paths: string[]): QuerySet<M, R> {
    const resolved = paths.map((p) => {
      const chain: string[] = []
      let meta = this.meta
      for (const part of p.split('__')) {
        const fm = meta.field(part)
        if (!fm || fm.kind !== 'foreignKey') throw new FieldError(`${meta.label}: selectRelated('${p}'): '${part}' is not a foreign key (choices: ${meta.fields.filter((x) => x.kind === 'foreignKey').map((x) => x.name).join(', ') || 'none'})`)
        chain.push(part)
        meta = fm.target!
      }
      return chain
    })
    return this.#clone({ selectRelated: [...this.#s.selectRelated, ...resolved] })
  }

  /** Load relations with one extra query each (no N+1): M2M, reverse FK and FK names. */
  prefetchRelated(...names: string[]): QuerySet<M, R> {
    for (const n of names) {
      let meta: ModelMeta | undefined = this.meta
      for (const part of n.split('__')) {
        const next: ModelMeta | undefined = relationTarget(meta, part)
        if (!next) throw new FieldError(`${meta.label}: prefetchRelated('${n}'): '${part}' is not a relation. Choices are: ${meta.choices().join(', ')}`)
        meta = next
      }
    }
    return this.#clone({ prefetch: [...this.#s.prefetch, ...names] })
  }

  /** Plain objects with only these fields (paths may cross foreign keys). */
  values<K extends keyof Data<M> & string>(...fields: K[]): QuerySet<M, Pick<Data<M>, K>>
  values(...fields: string[]): QuerySet<M, Record<string, unknown>>
  values(...fields: string[]): QuerySet<M, unknown> {
    return this.#clone({ values: { fields: this.#valueFields(fields), mode: 'objects' } })
  }

  /** Tuples of values; `valuesList(['name'], { flat: true })` gives the bare values. */
  valuesList(fields: string[], options: { flat: true }): QuerySet<M, unknown>
  valuesList(fields: string[], options?: { flat?: false }): QuerySet<M, unknown[]>
  valuesList(fields: string[], options: { flat?: boolean } = {}): QuerySet<M, unknown> {
    if (options.flat && fields.length !== 1) throw new UsageError(`${this.meta.label}: valuesList(..., { flat: true }) needs exactly one field`)
    return this.#clone({ values: { fields: this.#valueFields(fields), mode: options.flat ? 'flat' : 'list' } })
  }

  #valueFields(fields: string[]): string[] {
    const list = fields.length ? fields : this.meta.fields.map((fm) => fm.attname)
    for (const f of list) resolvePath(this.meta, f, undefined, true)
    return list
  }

  // ---- evaluation -----------------------------------------------------------------------------

  #ordering(): string[] {
    return ordering(this.meta, this.#s)
  }

  /** The SELECT this query set runs, for debugging: `{ sql, params }`. */
  toSQL(ex: Executor = currentExecutor()): Query {
    return ex.dialect.render(buildSelect(this.meta, this.#s, ex).stmt)
  }

  async #fetch(extraLimit?: number, prepared?: Query): Promise<R[]> {
    const s = this.#s
    if (s.none || s.limit === 0) return []
    if (s.forUpdate && !inTransaction()) throw new UsageError(`${this.meta.label}: selectForUpdate() needs a transaction: wrap the code in atomic()`)
    const ex = currentExecutor()
    const meta = this.meta
    let out: R[]
    if (prepared) {
      out = readRows(meta, s, ex, await ex.query(prepared, true), NO_RELATED, NO_FIELDS) as R[]
    } else {
      // Built with Drizzle once per shape; later query sets of the same shape reuse the text.
      const q = shapedQuery(meta, s, ex, 'select', () => {
        const { stmt, related } = buildSelect(meta, s, ex, extraLimit)
        const valueFields = s.values ? s.values.fields.map((p) => resolvePath(meta, p, undefined, true).field) : NO_FIELDS
        return { ...ex.dialect.render(stmt), related, valueFields }
      }, extraLimit)
      const rows = await ex.query({ sql: q.sql, params: q.params }, q.prepare)
      out = readRows(meta, s, ex, rows, q.related, q.valueFields) as R[]
    }
    if (s.prefetch.length && out.length && !s.values) await prefetch(meta, out as unknown as RowBase[], s.prefetch)
    return out
  }

  /** Runs the query (once; the result is cached on this query set). */
  toArray(): Promise<R[]> {
    if (this.#cache) return Promise.resolve(this.#cache)
    return this.#fetch().then((rows) => (this.#cache ??= rows))
  }

  then<A = R[], B = never>(onfulfilled?: ((value: R[]) => A | PromiseLike<A>) | null, onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.toArray().then(onfulfilled, onrejected)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    for (const row of await this.toArray()) yield row
  }

  /**
   * Exactly one row matching the conditions, else DoesNotExist (status 404) or
   * MultipleObjectsReturned.
   * @example const p = await Product.objects.get({ slug: 'wireless-headphones' })
   */
  get(cond?: Lookup<M> | WhereNode): Promise<R> {
    let hot: Query | undefined
    try {
      hot = cond ? this.#hotGet(cond) : undefined
      // The hot path (the cached statement, nothing to prefetch): one `then` on the statement
      // instead of two async frames, each a promise and a resumption per call.
      if (hot && this.#s.prefetch.length === 0) {
        const ex = currentExecutor()
        const answer = (raw: unknown[][]): R => this.#one(readRows(this.meta, this.#s, ex, raw, NO_RELATED, NO_FIELDS) as R[], cond)
        return ex.queryMapped ? ex.queryMapped(hot, answer) : ex.query(hot, true).then(answer)
      }
    } catch (e) {
      return Promise.reject(e)
    }
    return this.#get(cond, hot)
  }

  async #get(cond: Lookup<M> | WhereNode | undefined, hot: Query | undefined): Promise<R> {
    let rows: R[]
    if (hot) rows = await this.#fetch(MAX_GET_RESULTS, hot)
    else {
      // Ordering is irrelevant to a single row (Django clears it too) unless the set is sliced.
      const base = this.#s.limit === null && !this.#s.offset ? this.orderBy() : this
      rows = await (cond ? base.filter(cond) : base).#fetch(MAX_GET_RESULTS)
    }
    return this.#one(rows, cond)
  }

  #one(rows: R[], cond: Lookup<M> | WhereNode | undefined): R {
    if (rows.length === 1) return rows[0]!
    if (rows.length === 0) throw new DoesNotExist(this.meta.label, cond ?? describeWhere(this.#s.where))
    throw new MultipleObjectsReturned(this.meta.label, rows.length, cond ?? describeWhere(this.#s.where))
  }

  // get({ pk }) / get({ uniqueField }) on a bare manager: a cached statement per shape, prepared on pg.
  #hotGet(cond: object): Query | undefined {
    const s = this.#s
    if (s.where.length || s.selectRelated.length || s.values || s.limit !== null || s.offset || s.none || s.forUpdate) return undefined
    const keys = Object.keys(cond)
    if (keys.length !== 1 || Object.getPrototypeOf(cond) !== Object.prototype) return undefined
    const fm = this.meta.field(keys[0]!)
    if (!fm || !(fm.primaryKey || fm.unique) || fm.kind === 'manyToMany') return undefined
    const v = (cond as Record<string, unknown>)[keys[0]!]
    if (v === null || v === undefined) return undefined
    const ex = currentExecutor()
    let byDialect = getShapes.get(this.meta)
    if (!byDialect) getShapes.set(this.meta, (byDialect = {}))
    const shapes = (byDialect[ex.dialect.name] ??= new Map())
    let text = shapes.get(fm)
    if (!text) {
      text = this.orderBy().filter({ [fm.name]: v } as Lookup<M>).#renderForShape(ex)
      shapes.set(fm, text)
    }
    return { sql: text, params: [toColumn(ex.dialect, fm, v), MAX_GET_RESULTS] }
  }

  #renderForShape(ex: Executor): string {
    return ex.dialect.render(buildSelect(this.meta, this.#s, ex, MAX_GET_RESULTS).stmt).sql
  }

  /** The first row in order (primary key order when unordered), or null. */
  async first(): Promise<R | null> {
    const qs = this.#ordering().length ? this : this.orderBy('pk')
    const rows = await qs.#fetch(1)
    return rows[0] ?? null
  }

  /** The last row in order, or null. */
  async last(): Promise<R | null> {
    const qs = this.#ordering().length ? this.reverse() : this.orderBy('-pk')
    const rows = await qs.#fetch(1)
    return rows[0] ?? null
  }

  /** Number of rows (a COUNT query unless the results are already loaded). */
  async count(): Promise<number> {
    if (this.#cache) return this.#cache.length
    if (this.#s.none) return 0
    const ex = currentExecutor()
    const q = shapedQuery(this.meta, this.#s, ex, 'count', () => ex.dialect.render(buildCount(this.meta, this.#s, ex)))
    const [row] = await ex.query({ sql: q.sql, params: q.params }, q.prepare)
    return Number(row![0])
  }

  /** True when at least one row matches (SELECT 1 … LIMIT 1). */
  async exists(): Promise<boolean> {
    if (this.#cache) return this.#cache.length > 0
    if (this.#s.none) return false
    const ex = currentExecutor()
    const q = shapedQuery(this.meta, this.#s, ex, 'exists', () => ex.dialect.render(buildExists(this.meta, this.#s, ex)))
    return (await ex.query({ sql: q.sql, params: q.params }, q.prepare)).length > 0
  }

  /**
   * Aggregates over the matching rows.
   * @example const { total, n } = await Product.objects.filter({ category }).aggregate({ total: sum('price'), n: count() })
   */
  async aggregate<S extends Record<string, Aggregate>>(spec: S): Promise<AggregateResult<S>> {
    this.#notSliced('aggregate')
    const ex = currentExecutor()
    const { stmt, read } = buildAggregate(this.meta, this.#s, ex, spec)
    const [row] = await ex.query(ex.dialect.render(stmt))
    return read(row!) as AggregateResult<S>
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * UPDATE every matching row; returns the number of rows changed. autoNow fields are not touched
   * (as in Django).
   * @example await Product.objects.filter({ category }).update({ price: '9.99' })
   */
  async update(values: UpdateInput<M>): Promise<number> {
    this.#notSliced('update')
    if (this.#s.none) return 0
    const ex = currentExecutor()
    const stmt = buildUpdate(this.meta, this.#s, ex, values as Record<string, unknown>)
    return stmt ? ex.run(ex.dialect.render(stmt)) : 0
  }

  /** Deletes matching rows, applying each relation's onDelete rule like Django's collector. */
  async delete(): Promise<DeleteResult> {
    this.#notSliced('delete')
    if (this.#s.none) return { deleted: 0, byModel: {} }
    return atomic(async () => {
      const pks = await this.orderBy().valuesList([this.meta.pk.attname], { flat: true }).toArray()
      return collectAndDelete(this.meta, pks)
    })
  }

  /** Builds and inserts one row; returns it with its id. */
  async create(data: CreateInput<M>): Promise<Row<M>> {
    const row = this.model.build(data) as unknown as RowBase
    await row.save({ forceInsert: true })
    return row as unknown as Row<M>
  }

  /** Inserts many rows in few statements; returns them with their ids. */
  async bulkCreate(data: CreateInput<M>[]): Promise<Row<M>[]> {
    const rows = data.map((d) => this.model.build(d) as unknown as RowBase)
    for (const r of rows) preSave(this.meta, r as unknown as Record<string, unknown>, true)
    const stored = await insertRows(currentExecutor(), this.meta, rows as unknown as Record<string, unknown>[])
    rows.forEach((r, i) => {
      Object.assign(r, stored[i])
      r[STATE].adding = false
    })
    return rows as unknown as Row<M>[]
  }

  /**
   * get() the row, or create it from the lookup plus `defaults`. Returns [row, created]. A
   * concurrent insert of the same unique value is caught and the winner's row returned.
   */
  async getOrCreate(lookup: Lookup<M>, defaults: Partial<CreateInput<M>> = {}): Promise<[Row<M>, boolean]> {
    try {
      return [(await this.get(lookup)) as unknown as Row<M>, false]
    } catch (e) {
      if ((e as { code?: string }).code !== 'CW_ERR_DOES_NOT_EXIST') throw e
    }
    try {
      const row = await atomic(() => this.create(createData(lookup, defaults) as CreateInput<M>))
      return [row, true]
    } catch (e) {
      if (!isIntegrity(e)) throw e
      try {
        return [(await this.get(lookup)) as unknown as Row<M>, false]
      } catch {
        throw e
      }
    }
  }

  /** Updates the row matching `lookup` with `defaults`, or creates it. Returns [row, created]. */
  async updateOrCreate(lookup: Lookup<M>, defaults: Partial<CreateInput<M>> = {}): Promise<[Row<M>, boolean]> {
    return atomic(async () => {
      let row: Row<M>
      try {
        row = (await this.selectForUpdate().get(lookup)) as unknown as Row<M>
      } catch (e) {
        if ((e as { code?: string }).code !== 'CW_ERR_DOES_NOT_EXIST') throw e
        return [await this.create(createData(lookup, defaults) as CreateInput<M>), true] as [Row<M>, boolean]
      }
      for (const [k, v] of Object.entries(defaults)) (row as Record<string, unknown>)[k] = v
      await (row as unknown as RowBase).save()
      return [row, false] as [Row<M>, boolean]
    })
  }
}

function createData(lookup: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(lookup)) {
    if (k.includes('__')) {
      if (k.endsWith('__exact')) out[k.slice(0, -7)] = v
      continue
    }
    out[k] = v
  }
  return { ...out, ...defaults }
}

function describeWhere(where: WhereNode[]): unknown {
  const leaves: Record<string, unknown> = {}
  const walk = (n: WhereNode) => {
    if (n.kind === 'leaf') leaves[n.path] = n.value
    else if (n.kind === 'not') walk(n.child)
    else n.children.forEach(walk)
  }
  where.forEach(walk)
  return leaves
}
