// One execution of a named prepared statement on PostgreSQL, as a pg "submittable" (an object
// with submit() and the message handlers that pg's Client calls for the active query). It does
// what pg's own Query does for `{ name, text, values, rowMode: 'array' }`, minus the per-execution
// work that a statement executed again and again does not need:
// - no Describe once this connection has parsed the statement and its columns' parsers are known:
//   Bind, Execute and Sync only, so the server sends no RowDescription and the client parses none;
// - no `Result`: pg's addFields builds a throwaway `{ ...row }` object per result even in array
//   mode (V8's slow CopyDataProperties path), and no copy of the query config;
// - rows are arrays decoded with the statement's parsers, looked up once per row description.
// Its prototype chain includes pg.Query's only because pg's pipeline mode refuses other
// submittables (see the end of this file).
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
  stream: { writable: boolean; write(b: Buffer): boolean; cork?: () => void; uncork?: () => void }
  parse(m: { text: string; name: string; types?: unknown[] }): void
  describe(m: { type: 'P' | 'S'; name: string }): void
}

/** pg's conversion of a JS value to a parameter's text (or a Buffer, sent as binary). */
const prepareValue = (pg as unknown as { utils: { prepareValue: (v: unknown) => string | Buffer | null | undefined } }).utils.prepareValue

// Execute (unnamed portal, all rows) and Sync, as pg-protocol serializes them.
const SYNC = Buffer.from([0x53, 0, 0, 0, 4])
const EXECUTE_SYNC = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4])
const EXECUTE_SYNC_LENGTH = EXECUTE_SYNC.length

// As pg's Connection#_send: nothing is written to a stream that has closed.
const send = (c: PgWire, b: Buffer): void => {
  if (c.stream.writable) c.stream.write(b)
}

/**
 * Bind (unnamed portal, statement `name`, text results) + Execute + Sync in one buffer, byte for
 * byte what pg-protocol writes for the three (parameters through pg's prepareValue: null as
 * length -1, Buffers in binary format, everything else as UTF-8 text).
 */
export function bindExecuteSync(name: string, values: readonly unknown[]): Buffer {
  const n = values.length
  const mapped = new Array<string | Buffer | null>(n)
  // Per value: -1 for null, else its byte length; short ASCII strings (slugs, keys, numbers) are
  // copied by hand below, which is much cheaper than Buffer#write's trip into C++.
  const sizes = new Array<number>(n)
  const ascii = new Array<boolean>(n)
  let size = 0
  for (let i = 0; i < n; i++) {
    const v = prepareValue(values[i])
    let len = -1
    let isAscii = false
    if (v == null) mapped[i] = null
    else if (typeof v === 'string') {
      mapped[i] = v
      isAscii = v.length <= SHORT && isAsciiText(v)
      len = isAscii ? v.length : Buffer.byteLength(v)
    } else {
      mapped[i] = v
      len = v.length
    }
    sizes[i] = len
    ascii[i] = isAscii
    size += len < 0 ? 4 : 4 + len
  }
  // The name is cw_<n> (ASCII); anything else goes through Buffer#write too.
  const nameAscii = name.length <= SHORT && isAsciiText(name)
  const nameBytes = nameAscii ? name.length : Buffer.byteLength(name)
  // Length field onwards: itself, portal '' (1), name + NUL, format count + codes, value count,
  // values, result format count + code.
  const bindLength = 4 + 1 + nameBytes + 1 + 2 + 2 * n + 2 + size + 4
  const buf = Buffer.allocUnsafe(1 + bindLength + EXECUTE_SYNC_LENGTH)
  buf[0] = 0x42
  int32(buf, 1, bindLength)
  buf[5] = 0
  let o = 6
  if (nameAscii) o = copyAscii(buf, o, name)
  else o += buf.write(name, o, 'utf8')
  buf[o++] = 0
  buf[o++] = n >> 8
  buf[o++] = n & 0xff
  for (let i = 0; i < n; i++) {
    buf[o++] = 0
    buf[o++] = mapped[i] instanceof Buffer ? 1 : 0
  }
  buf[o++] = n >> 8
  buf[o++] = n & 0xff
  for (let i = 0; i < n; i++) {
    const v = mapped[i]!
    const len = sizes[i]!
    int32(buf, o, len)
    o += 4
    if (v === null) continue
    if (typeof v !== 'string') v.copy(buf, o)
    else if (ascii[i]) copyAscii(buf, o, v)
    else buf.write(v, o, 'utf8')
    o += len
  }
  buf[o] = 0
  buf[o + 1] = 1
  buf[o + 2] = 0
  buf[o + 3] = 0
  EXECUTE_SYNC.copy(buf, o + 4)
  return buf
}

const SHORT = 256

function isAsciiText(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

function copyAscii(buf: Buffer, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[o++] = s.charCodeAt(i)
  return o
}

function int32(buf: Buffer, o: number, v: number): void {
  buf[o] = v >>> 24
  buf[o + 1] = (v >>> 16) & 0xff
  buf[o + 2] = (v >>> 8) & 0xff
  buf[o + 3] = v & 0xff
}

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

/** One execution: `result` (rows as arrays, in select-list order) and `rowCount` once done. */
export class PgStatementQuery {
  readonly stmt: PgStatement
  // What pg's Client reads of its active query (parse completion, error cleanup).
  readonly name: string
  readonly text: string
  readonly #values: readonly unknown[]
  // Not `rows`: pg reads a Query's `rows` as the page size of a portal kept open between round
  // trips (and refuses such queries in pipeline mode).
  result: unknown[][] = NO_ROWS
  rowCount = 0
  callback: Done | undefined = undefined
  #parsers: Parser[] | null = null
  #failed: Error | null = null
  constructor(stmt: PgStatement, values: readonly unknown[]) {
    this.stmt = stmt
    this.name = stmt.name
    this.text = stmt.text
    this.#values = values
  }

  submit(connection: unknown): Error | null {
    const c = connection as PgWire
    const s = this.stmt
    const previous = c.parsedStatements[s.name] ?? c.submittedNamedStatements[s.name]
    if (previous !== undefined && previous !== s.text) return new Error(`Prepared statements must be unique - '${s.name}' was used for a different statement`)
    let msg: Buffer
    try {
      msg = bindExecuteSync(s.name, this.#values)
    } catch (err) {
      // A value that cannot be sent (its toPostgres threw): nothing runs, and the error is
      // delivered when the Sync's ReadyForQuery frees the connection.
      this.#failed = err as Error
      send(c, SYNC)
      return null
    }
    if (previous !== undefined && s.parsers !== null) {
      // The hot path: one write, Bind + Execute + Sync.
      this.#parsers = s.parsers
      send(c, msg)
      return null
    }
    c.stream.cork?.()
    try {
      if (previous === undefined) {
        c.parse({ text: s.text, name: s.name })
        c.submittedNamedStatements[s.name] = s.text
      }
      send(c, msg.subarray(0, msg.length - EXECUTE_SYNC_LENGTH))
      c.describe({ type: 'P', name: '' })
      send(c, msg.subarray(msg.length - EXECUTE_SYNC_LENGTH))
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

// pg's pipeline mode accepts no submittable but its own Query (`instanceof`), since others might
// keep a portal open across round trips (this one never does). So the class answers as a Query
// without running its constructor per execution (an EventEmitter, a Result, a config copy); the
// handlers pg calls are all defined above.
Object.setPrototypeOf(PgStatementQuery.prototype, pg.Query.prototype)
