// One execution of a named prepared statement on PostgreSQL, as a pg "submittable" (an object
// with submit() and the message handlers that pg's Client calls for the active query). It does
// what pg's own Query does for `{ name, text, values, rowMode: 'array' }`, minus the per-execution
// work that a statement executed again and again does not need:
// - no Describe once this connection has parsed the statement and its columns' parsers are known:
//   Bind, Execute and Sync only, so the server sends no RowDescription and the client parses none;
// - no `Result`: pg's addFields builds a throwaway `{ ...row }` object per result even in array
//   mode (V8's slow CopyDataProperties path), and no copy of the query config;
// - rows are arrays decoded with the statement's parsers, looked up once per row description.
// Extends pg.Query only because pg's pipeline mode refuses other submittables (it cannot tell
// whether they keep a portal open across round trips; this one never does).
import pg from 'pg'

type Parser = (text: string) => unknown

interface TypeSource {
  getTypeParser(oid: number, format?: 'text' | 'binary'): Parser
}

interface FieldDescription {
  dataTypeID: number
  format?: string
}

/** What pg's Connection offers a submittable (pg's own types do not describe it). */
interface PgWire {
  parsedStatements: Record<string, string | undefined>
  submittedNamedStatements: Record<string, string | undefined>
  stream: { cork?: () => void; uncork?: () => void }
  parse(m: { text: string; name: string; types?: unknown[] }): void
  bind(m: { portal: string; statement: string; values: readonly unknown[]; binary: boolean; valueMapper: unknown }): void
  describe(m: { type: 'P' | 'S'; name: string }): void
  execute(m: { portal: string; rows?: number }): void
  sync(): void
}

const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue

/**
 * A named statement's text and, once a row description has been seen, its columns' parsers.
 * One per distinct SQL text per connection pool (shared by the pool's connections, whose
 * sessions see the same schema; a connection that parses the statement describes it again).
 */
export class PgStatement {
  readonly name: string
  readonly text: string
  parsers: Parser[] | null = null
  readonly #types: TypeSource
  constructor(name: string, text: string, types: TypeSource) {
    this.name = name
    this.text = text
    this.#types = types
  }
  describe(fields: readonly FieldDescription[]): void {
    const parsers = new Array<Parser>(fields.length)
    for (let i = 0; i < fields.length; i++) parsers[i] = this.#types.getTypeParser(fields[i]!.dataTypeID, 'text')
    this.parsers = parsers
  }
}

type Done = (err: Error | null, result?: PgStatementQuery) => void

const NO_ROWS: unknown[][] = []

// pg.Query as a base with only what this subclass relies on (its typings declare submit as a property).
const QueryBase = pg.Query as unknown as new (text: string) => { name?: string; text?: string }

/** One execution: `result` (rows as arrays, in select-list order) and `rowCount` once done. */
export class PgStatementQuery extends QueryBase {
  readonly stmt: PgStatement
  readonly #values: readonly unknown[]
  // Not `rows`: pg reads a Query's `rows` as the page size of a portal kept open between round
  // trips (and refuses such queries in pipeline mode).
  result: unknown[][] = NO_ROWS
  rowCount = 0
  callback: Done | undefined = undefined
  #parsers: Parser[] | null = null
  #failed: Error | null = null
  constructor(stmt: PgStatement, values: readonly unknown[]) {
    // A string config is the one pg does not copy; name and text are what pg's Client reads
    // (parse completion, error cleanup).
    super(stmt.text)
    this.stmt = stmt
    this.name = stmt.name
    this.#values = values
  }

  submit(connection: unknown): Error | null {
    const c = connection as PgWire
    const s = this.stmt
    const previous = c.parsedStatements[s.name] ?? c.submittedNamedStatements[s.name]
    if (previous !== undefined && previous !== s.text) return new Error(`Prepared statements must be unique - '${s.name}' was used for a different statement`)
    c.stream.cork?.()
    try {
      let describe = s.parsers === null
      if (previous === undefined) {
        c.parse({ text: s.text, name: s.name })
        c.submittedNamedStatements[s.name] = s.text
        describe = true
      }
      try {
        c.bind({ portal: '', statement: s.name, values: this.#values, binary: false, valueMapper: prepareValue })
      } catch (err) {
        // A value that cannot be sent (its toPostgres threw): nothing runs, the statement stays
        // prepared (pg's Query would close it, which its parsedStatements would not know), and
        // the error is delivered when the Sync's ReadyForQuery frees the connection.
        this.#failed = err as Error
        c.sync()
        return null
      }
      if (describe) c.describe({ type: 'P', name: '' })
      else this.#parsers = s.parsers
      c.execute({ portal: '' })
      c.sync()
    } finally {
      c.stream.uncork?.()
    }
    return null
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    this.stmt.describe(msg.fields)
    this.#parsers = this.stmt.parsers
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (this.#failed) return
    const raw = msg.fields
    const parsers = this.#parsers
    const row = new Array<unknown>(raw.length)
    try {
      for (let i = 0; i < raw.length; i++) {
        const v = raw[i]
        row[i] = v === null ? null : parsers![i]!(v as string)
      }
    } catch (err) {
      this.#failed = err as Error
      return
    }
    if (this.result === NO_ROWS) this.result = [row]
    else this.result.push(row)
  }

  handleCommandComplete(msg: { text?: string; command?: string }): void {
    // "SELECT 3", "UPDATE 3", "INSERT 0 3": the count is the last word.
    const text = msg.text ?? msg.command ?? ''
    const sp = text.lastIndexOf(' ')
    const n = sp < 0 ? NaN : Number(text.slice(sp + 1))
    this.rowCount = Number.isInteger(n) ? n : 0
  }

  handleEmptyQuery(): void {}

  handleError(err: Error): void {
    const failed = this.#failed
    this.#failed = null
    this.callback?.(failed ?? err)
  }

  handleReadyForQuery(): void {
    if (this.#failed) return this.handleError(this.#failed)
    this.callback?.(null, this)
  }
}
