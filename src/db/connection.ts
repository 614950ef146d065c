// Connections: one better-sqlite3 handle (WAL, busy_timeout) or one `pg` Pool per process.
// Both speak the same small Executor interface: rows as arrays, affected counts, raw DDL.
import Database from 'better-sqlite3'
import pg from 'pg'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { AsyncLocalStorage } from 'node:async_hooks'
import { dialects, type Dialect, type Query } from './dialect.ts'
import { translateDriverError } from './errors.ts'
import { parseDatabaseUrl, redact } from './url.ts'
import { resolveDbSettings, type DbSettings } from './settings.ts'
import { isRecording } from '../journey/index.ts'
import { traceQuery, traceTransaction } from './trace.ts'
import { PgStatement, PgStatementQuery } from './pg-statement.ts'
import { timestamptzParser } from './pg-timestamp.ts'

/**
 * Observes every statement (tests count queries to prove there is no N+1; a debug toolbar or the
 * journey spans can hook here). Unset in production: one property check per statement.
 */
export const queryHooks: { onQuery?: (q: Query, prepared: boolean) => void } = {}

export interface Executor {
  readonly dialect: Dialect
  /** Rows as arrays, in select-list order. `prepare` marks a hot path (named statement on pg). */
  query(q: Query, prepare?: boolean): Promise<unknown[][]>
  /**
   * Optional: query(q, true) with `map` applied to the rows where the driver answers, so the
   * caller's result needs no reaction (and promise) of its own. A throw in `map` rejects.
   */
  queryMapped?<T>(q: Query, map: (rows: unknown[][]) => T): Promise<T>
  /** Runs a statement and returns the number of affected rows. */
  run(q: Query, prepare?: boolean): Promise<number>
  /** Runs parameterless SQL (DDL, PRAGMA, several statements). */
  exec(sqlText: string): Promise<void>
}

export interface Connection extends Executor {
  readonly url: string
  /** Runs fn on a dedicated executor inside BEGIN … COMMIT (ROLLBACK on throw). atomic() builds on it. */
  begin<T>(fn: (tx: Executor) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface ConnectOptions {
  /** Project root for relative sqlite paths (default: cwd). */
  root?: string
  poolSize?: number
  /** PostgreSQL: connections in pipeline mode for statements outside transactions (0: the pool). */
  pipeline?: number
  busyTimeout?: number
  connectTimeout?: number
  statementCacheSize?: number
}

class SqliteExecutor implements Executor {
  readonly dialect = dialects.sqlite
  readonly db: Database.Database
  #cache = new Map<string, Database.Statement>()
  #limit: number
  constructor(db: Database.Database, limit: number) {
    this.db = db
    this.#limit = limit
  }
  stmt(text: string): Database.Statement {
    let s = this.#cache.get(text)
    if (!s) {
      s = this.db.prepare(text)
      if (this.#cache.size >= this.#limit) this.#cache.delete(this.#cache.keys().next().value!)
      if (this.#limit > 0) this.#cache.set(text, s)
    }
    return s
  }
  // In a recorded request each statement is one journey span (trace.ts); otherwise one
  // AsyncLocalStorage read.
  async query(q: Query): Promise<unknown[][]> {
    queryHooks.onQuery?.(q, true)
    return isRecording() ? traceQuery('sqlite', q.sql, () => this.#all(q)) : this.#all(q)
  }
  #all(q: Query): unknown[][] {
    try {
      return this.stmt(q.sql).raw(true).all(...(q.params as unknown[])) as unknown[][]
    } catch (e) {
      throw translateDriverError(e)
    }
  }
  async run(q: Query): Promise<number> {
    queryHooks.onQuery?.(q, true)
    return isRecording() ? traceQuery('sqlite', q.sql, () => this.#run(q)) : this.#run(q)
  }
  #run(q: Query): number {
    try {
      return this.stmt(q.sql).run(...(q.params as unknown[])).changes
    } catch (e) {
      throw translateDriverError(e)
    }
  }
  async exec(text: string): Promise<void> {
    return isRecording() ? traceQuery('sqlite', text, () => this.#exec(text)) : this.#exec(text)
  }
  #exec(text: string): void {
    try {
      this.db.exec(text)
    } catch (e) {
      throw translateDriverError(e)
    }
  }
}

// One handle per process. While a transaction is open, other async tasks of this process must not
// slip statements into it, so they wait on #lock; the transaction's own executor bypasses it.
class SqliteConnection implements Connection {
  readonly dialect = dialects.sqlite
  readonly url: string
  #ex: SqliteExecutor
  #lock: Promise<void> | null = null
  // Marks the async context that holds the lock: its statements belong to the open transaction.
  #holder = new AsyncLocalStorage<true>()
  constructor(url: string, filename: string, o: ConnectOptions) {
    this.url = url
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true })
    const db = new Database(filename)
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(o.busyTimeout ?? 5000))}`)
    if (filename !== ':memory:') db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    this.#ex = new SqliteExecutor(db, o.statementCacheSize ?? 500)
  }
  get handle(): Database.Database {
    return this.#ex.db
  }
  async #idle(): Promise<void> {
    if (this.#holder.getStore()) return
    while (this.#lock) await this.#lock
  }
  async query(q: Query): Promise<unknown[][]> {
    if (this.#lock) await this.#idle()
    return this.#ex.query(q)
  }
  async run(q: Query): Promise<number> {
    if (this.#lock) await this.#idle()
    return this.#ex.run(q)
  }

  async exec(text: string): Promise<void> {
    if (this.#lock) await this.#idle()
    return this.#ex.exec(text)
  }
  begin<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return isRecording() ? traceTransaction('sqlite', () => this.#begin(fn)) : this.#begin(fn)
  }
  async #begin<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.#holder.getStore()) throw new Error('begin() inside a transaction on the same SQLite connection: use atomic(), which nests with savepoints')
    // Check and take the lock in one synchronous step, or two waiters could both get through.
    while (this.#lock) await this.#lock
    let release!: () => void
    this.#lock = new Promise((r) => (release = r))
    const db = this.#ex.db
    try {
      // IMMEDIATE takes the write lock now (waiting busy_timeout for other processes) instead of
      // failing later with SQLITE_BUSY when a read transaction tries to upgrade.
      db.exec('BEGIN IMMEDIATE')
      const result = await this.#holder.run(true, () => fn(this.#ex))
      db.exec('COMMIT')
      return result
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw translateDriverError(e)
    } finally {
      this.#lock = null
      release()
    }
  }
  async close(): Promise<void> {
    await this.#idle()
    if (this.#ex.db.open) this.#ex.db.close()
  }
}

// pg returns int8 and numeric as strings and `date` as a local-midnight Date. Make integers numbers
// (as better-sqlite3 does), keep numeric as exact strings and dates as 'YYYY-MM-DD'. timestamptz
// gets the same Dates as pg's parser by a faster path (pg-timestamp.ts), unless an application
// registered its own parser with pg.types.setTypeParser.
const INT8 = 20
const DATE = 1082
const TIMESTAMPTZ = 1184
const int8 = (v: string): number => Number(v)
const dateText = (v: string): string => v
const pgTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, 'text')
const fastTimestamptz = timestamptzParser(pgTimestamptz)
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return int8
    if (oid === DATE) return dateText
    const p = pg.types.getTypeParser(oid, format as 'text')
    return oid === TIMESTAMPTZ && p === pgTimestamptz ? fastTimestamptz : p
  },
}

const rowsOf = (r: pg.QueryResult<unknown[]>): unknown[][] => r.rows

/** What PgExecutor sends statements through: the pool, a transaction's client, or a pipeline. */
interface PgQueryable {
  query(config: pg.QueryConfig<unknown[]> | pg.QueryArrayConfig<unknown[]>): Promise<pg.QueryResult<unknown[]>>
  /**
   * Runs one execution of a named statement (pg-statement.ts); resolves with `answer(q)` when
   * done, rejects with the driver's error translated (translateDriverError).
   */
  execute<T>(q: PgStatementQuery, answer: (q: PgStatementQuery) => T): Promise<T>
}

// A pg.Client answers a submittable through its callback (pg.Pool's query() makes a promise itself).
const executeOn = (client: pg.Client, q: PgStatementQuery): Promise<PgStatementQuery> =>
  new Promise((resolve, reject) => {
    q.callback = (err, done) => (err ? reject(err) : resolve(done!))
    client.query(q as unknown as pg.Submittable)
  })

/** A transaction's client as a PgQueryable. */
class PgClientQueryable implements PgQueryable {
  readonly #client: pg.PoolClient
  constructor(client: pg.PoolClient) {
    this.#client = client
  }
  query(config: pg.QueryConfig<unknown[]> | pg.QueryArrayConfig<unknown[]>): Promise<pg.QueryResult<unknown[]>> {
    return this.#client.query(config as pg.QueryConfig<unknown[]>)
  }
  execute<T>(q: PgStatementQuery, answer: (q: PgStatementQuery) => T): Promise<T> {
    return executeOn(this.#client, q).then(answer, rethrowTranslated)
  }
}

/** The pool as a PgQueryable: each statement checks a connection out and back in. */
class PgPoolQueryable implements PgQueryable {
  readonly #pool: pg.Pool
  constructor(pool: pg.Pool) {
    this.#pool = pool
  }
  query(config: pg.QueryConfig<unknown[]> | pg.QueryArrayConfig<unknown[]>): Promise<pg.QueryResult<unknown[]>> {
    return this.#pool.query(config as pg.QueryConfig<unknown[]>)
  }
  execute<T>(q: PgStatementQuery, answer: (q: PgStatementQuery) => T): Promise<T> {
    return (this.#pool.query(q as unknown as pg.QueryConfig) as unknown as Promise<PgStatementQuery>).then(answer, rethrowTranslated)
  }
}

/** pg.Client's ref()/unref() (its socket's), missing from @types/pg. */
type RefClient = pg.Client & { ref(): void; unref(): void }

/** One pipelined connection and how many of its statements are still unanswered. */
class PipelinedClient {
  readonly client: RefClient
  inflight = 0
  #corked = false
  constructor(client: RefClient) {
    this.client = client
  }
  /** True while statements sent this turn of the event loop are held back to leave together (see #cork). */
  get corked(): boolean {
    return this.#corked
  }
  // Bound once per connection rather than a closure per statement.
  readonly #answered = (r: pg.QueryResult<unknown[]>): pg.QueryResult<unknown[]> => {
    this.#settled()
    return r
  }
  readonly #failed = (e: unknown): never => {
    this.#settled()
    throw e
  }
  // An idle connection does not keep the process alive (as the pool's idle clients time out): a
  // script that forgets closeAll() still exits.
  #settled(): void {
    if (--this.inflight === 0) this.client.unref()
  }
  // A statement goes out: the connection holds the process open while any is unanswered.
  #sending(): void {
    if (this.inflight++ === 0) this.client.ref()
    if (!this.#corked) this.#cork()
  }
  send(config: pg.QueryConfig<unknown[]> | pg.QueryArrayConfig<unknown[]>): Promise<pg.QueryResult<unknown[]>> {
    this.#sending()
    return (this.client.query(config as pg.QueryConfig<unknown[]>) as Promise<pg.QueryResult<unknown[]>>).then(this.#answered, this.#failed)
  }
  execute<T>(q: PgStatementQuery, answer: (q: PgStatementQuery) => T): Promise<T> {
    this.#sending()
    // The in-flight count is settled, the answer taken and the error translated in pg's callback
    // itself: one promise per statement, not three.
    return new Promise((resolve, reject) => {
      q.callback = (err, done) => {
        q.callback = undefined // answered once, whatever else pg reports for this statement
        this.#settled()
        if (err) {
          reject(translateDriverError(err))
          return
        }
        try {
          resolve(answer(done!))
        } catch (e) {
          reject(e)
        }
      }
      try {
        this.client.query(q as unknown as pg.Submittable)
      } catch (e) {
        q.callback = undefined
        this.#settled()
        reject(translateDriverError(e))
      }
    })
  }
  /** Closes the connection; held open (ref'd) until the server has seen the Terminate. */
  end(): Promise<void> {
    this.client.ref()
    return this.client.end().catch(() => {})
  }
  // Statements sent in the same turn of the event loop leave in one write: the socket stays corked
  // until the loop's check phase (setImmediate), after this turn's I/O callbacks. Under load that
  // is several requests' statements per write, and PostgreSQL reads them in one wake-up (pg corks
  // each statement's Bind/Describe/Execute/Sync itself; corking nests).
  #cork(): void {
    const stream = (this.client as unknown as { connection?: { stream?: NodeJS.WritableStream & { cork?: () => void; uncork?: () => void } } }).connection?.stream
    if (!stream?.cork || !stream.uncork) return
    this.#corked = true
    stream.cork()
    setImmediate(PipelinedClient.#uncork, this, stream as { uncork: () => void })
  }
  static #uncork(c: PipelinedClient, stream: { uncork: () => void }): void {
    c.#corked = false
    stream.uncork()
  }
}

/**
 * Statements outside transactions over a few connections in pg's pipeline mode: each statement is
 * written at once, even while others are in flight on the same connection, and ends with its own
 * Sync, so it is still its own implicit transaction and a failing one fails alone. Compared with
 * checking a pooled connection out and back in per statement, it skips the pool's bookkeeping and
 * — the larger part under load — lets both sides read and answer several statements per wake-up.
 * The first statement of a turn of the event loop goes to the connection with the fewest in flight
 * (a connection is opened only when every open one is busy); the turn's other statements join it, so they leave in
 * one write and their answers come back together. A broken connection is dropped (its statements
 * fail, as they would on a pooled one) and replaced on demand.
 */
class PgPipeline implements PgQueryable {
  readonly #slots: (PipelinedClient | undefined)[]
  readonly #config: pg.ClientConfig
  /** The connection this turn's statements went to (still corked until the turn's check phase). */
  #batch: PipelinedClient | undefined
  constructor(size: number, config: pg.ClientConfig) {
    this.#slots = new Array<PipelinedClient | undefined>(size).fill(undefined)
    this.#config = { ...config, pipeline: true } as pg.ClientConfig
  }
  query(config: pg.QueryConfig<unknown[]> | pg.QueryArrayConfig<unknown[]>): Promise<pg.QueryResult<unknown[]>> {
    return this.#pick().send(config)
  }
  execute<T>(q: PgStatementQuery, answer: (q: PgStatementQuery) => T): Promise<T> {
    return this.#pick().execute(q, answer)
  }
  #pick(): PipelinedClient {
    // A statement issued in the turn of another joins its connection, still corked: they leave in
    // one write (a page's user and product queries). Across turns, fewest in flight.
    const batch = this.#batch
    if (batch?.corked) return batch
    return (this.#batch = this.#leastBusy())
  }
  #leastBusy(): PipelinedClient {
    const slots = this.#slots
    let best: PipelinedClient | undefined
    let free = -1
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]
      if (s === undefined) {
        if (free < 0) free = i
      } else if (best === undefined || s.inflight < best.inflight) {
        best = s
        if (s.inflight === 0) return s
      }
    }
    return free >= 0 ? this.#open(free) : best!
  }
  #open(i: number): PipelinedClient {
    const slot = new PipelinedClient(new pg.Client(this.#config) as RefClient)
    const drop = (): void => {
      if (this.#slots[i] === slot) this.#slots[i] = undefined
      if (this.#batch === slot) this.#batch = undefined
    }
    // A lost connection must not crash the process: its statements fail, the next ones reconnect.
    slot.client.on('error', drop)
    slot.client.on('end', drop)
    slot.client.connect().catch(drop)
    this.#slots[i] = slot
    return slot
  }
  async end(): Promise<void> {
    const open = this.#slots.filter((s): s is PipelinedClient => s !== undefined)
    this.#slots.fill(undefined)
    this.#batch = undefined
    await Promise.all(open.map((s) => s.end()))
  }
}
const rethrowTranslated = (e: unknown): never => {
  throw translateDriverError(e)
}
const resultOf = (q: PgStatementQuery): unknown[][] => q.result
const rowCountOf = (q: PgStatementQuery): number => q.rowCount
const rowCountOf0 = (r: pg.QueryResult<unknown[]>): number => r.rowCount ?? 0

class PgExecutor implements Executor {
  readonly dialect = dialects.postgres
  readonly #c: PgQueryable
  readonly #names: Map<string, PgStatement>
  readonly #limit: number
  constructor(c: PgQueryable, names: Map<string, PgStatement>, limit: number) {
    this.#c = c
    this.#names = names
    this.#limit = limit
  }
  // The named statement for this text, or undefined once the cache is full (then the text runs
  // unnamed, parsed every time).
  #statement(text: string): PgStatement | undefined {
    let st = this.#names.get(text)
    if (!st && this.#names.size < this.#limit) {
      st = new PgStatement(`cw_${this.#names.size + 1}`, text, typeParsers)
      this.#names.set(text, st)
    }
    return st
  }
  // Not async: one promise (pg's) and one reaction per statement on the hot path.
  query(q: Query, prepare = false): Promise<unknown[][]> {
    queryHooks.onQuery?.(q, prepare)
    return isRecording() ? traceQuery('postgresql', q.sql, () => this.#query(q, prepare)) : this.#query(q, prepare)
  }
  queryMapped<T>(q: Query, map: (rows: unknown[][]) => T): Promise<T> {
    queryHooks.onQuery?.(q, true)
    // A recorded query keeps its span (the row count is read from the rows themselves).
    if (isRecording()) return traceQuery('postgresql', q.sql, () => this.#query(q, true)).then(map)
    return this.#query(q, true, map)
  }
  // With `map`, a named statement's rows are mapped in pg's callback (no reaction of their own).
  #query(q: Query, prepare: boolean): Promise<unknown[][]>
  #query<T>(q: Query, prepare: boolean, map: (rows: unknown[][]) => T): Promise<T>
  #query<T>(q: Query, prepare: boolean, map?: (rows: unknown[][]) => T): Promise<T | unknown[][]> {
    const st = prepare ? this.#statement(q.sql) : undefined
    try {
      if (st) {
        const answer: (done: PgStatementQuery) => T | unknown[][] = map === undefined ? resultOf : (done) => map(done.result)
        return this.#c.execute(new PgStatementQuery(st, q.params), answer)
      }
      const rows = this.#c.query({ text: q.sql, values: q.params, rowMode: 'array' }).then(rowsOf, rethrowTranslated)
      return map === undefined ? rows : rows.then(map)
    } catch (e) {
      return Promise.reject(translateDriverError(e))
    }
  }
  async run(q: Query, prepare = false): Promise<number> {
    queryHooks.onQuery?.(q, prepare)
    return isRecording() ? traceQuery('postgresql', q.sql, () => this.#run(q, prepare)) : this.#run(q, prepare)
  }
  #run(q: Query, prepare: boolean): Promise<number> {
    const st = prepare ? this.#statement(q.sql) : undefined
    try {
      if (st) return this.#c.execute(new PgStatementQuery(st, q.params), rowCountOf)
      return this.#c.query({ text: q.sql, values: q.params }).then(rowCountOf0, rethrowTranslated)
    } catch (e) {
      return Promise.reject(translateDriverError(e))
    }
  }
  async exec(text: string): Promise<void> {
    return isRecording() ? traceQuery('postgresql', text, () => this.#exec(text)) : this.#exec(text)
  }
  async #exec(text: string): Promise<void> {
    try {
      await this.#c.query({ text })
    } catch (e) {
      throw translateDriverError(e)
    }
  }
}

class PgConnection extends PgExecutor implements Connection {
  readonly url: string
  readonly pool: pg.Pool
  readonly #pipeline: PgPipeline | undefined
  #names: Map<string, PgStatement>
  #limit: number
  constructor(url: string, connectionString: string, schema: string | undefined, o: ConnectOptions) {
    const names = new Map<string, PgStatement>()
    const client: pg.ClientConfig = {
      connectionString,
      connectionTimeoutMillis: o.connectTimeout ?? 10_000,
      types: typeParsers,
      options: schema ? `-c search_path=${schema}` : undefined,
    }
    const pool = new pg.Pool({ ...client, max: o.poolSize ?? 10 })
    // An idle client losing its server connection must not crash the process.
    pool.on('error', () => {})
    const pipeline = o.pipeline ? new PgPipeline(o.pipeline, client) : undefined
    super(pipeline ?? new PgPoolQueryable(pool), names, o.statementCacheSize ?? 500)
    this.url = url
    this.pool = pool
    this.#pipeline = pipeline
    this.#names = names
    this.#limit = o.statementCacheSize ?? 500
  }
  begin<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return isRecording() ? traceTransaction('postgresql', () => this.#begin(fn)) : this.#begin(fn)
  }
  async #begin<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const result = await fn(new PgExecutor(new PgClientQueryable(client), this.#names, this.#limit))
      await client.query('COMMIT')
      return result
    } catch (e) {
      try {
        await client.query('ROLLBACK')
      } catch (re) {
        broken = re as Error
      }
      throw translateDriverError(e)
    } finally {
      client.release(broken)
    }
  }
  #closed = false
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([this.#pipeline?.end(), this.pool.end()])
  }
}

/**
 * Opens a connection (SQLite handle or PostgreSQL pool) for a URL. Most code uses the process
 * default instead: setup() / getConnection().
 * @example const conn = connect('sqlite::memory:')
 */
export function connect(url: string, options: ConnectOptions = {}): Connection {
  const t = parseDatabaseUrl(url, options.root)
  const conn = t.dialect === 'sqlite'
    ? new SqliteConnection(url, t.filename, options)
    : new PgConnection(url, t.connectionString, t.schema, options)
  open.add(conn)
  return conn
}

const open = new Set<Connection>()
let current: Connection | undefined
let currentSettings: DbSettings | undefined

/**
 * Creates the process's default connection from settings (the `db` config section and
 * DATABASE_URL). Idempotent; the app's ready() calls it once per worker.
 * @example await setup({ url: 'postgres://app@db/shop', poolSize: 20 })
 */
export function setup(given: Record<string, unknown> = {}, root: string = process.cwd()): Connection {
  if (current) return current
  const s = resolveDbSettings(given)
  currentSettings = s
  current = connect(s.url, { root, poolSize: s.poolSize, pipeline: s.pipeline, busyTimeout: s.busyTimeout, connectTimeout: s.connectTimeout, statementCacheSize: s.statementCacheSize })
  return current
}

/** The process's default connection, created on first use from DATABASE_URL (default: sqlite:///db.sqlite3). */
export function getConnection(): Connection {
  return current ?? setup()
}

/** Makes `conn` the process default (tests, scripts). */
export function setConnection(conn: Connection | undefined): void {
  current = conn
}

/** The resolved settings of the default connection (after setup()). */
export function dbSettings(): DbSettings {
  return currentSettings ?? resolveDbSettings()
}

/** Closes every connection this process opened (graceful worker exit). */
export async function closeAll(): Promise<void> {
  const all = [...open]
  open.clear()
  current = undefined
  currentSettings = undefined
  await Promise.all(all.map((c) => c.close()))
}

export { redact }
