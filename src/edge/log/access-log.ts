// The access log: nginx's `combined` format (plus request id, duration, upstream and cache status)
// or one JSON object per line. Lines are batched and written once per event-loop turn, so logging
// costs one write syscall per batch, not per request. `reopen()` (on SIGHUP) supports rotation.
import { createWriteStream, type WriteStream } from 'node:fs'
import type { EdgeContext } from '../context.ts'
import { clfTime } from '../../clf-time.ts'

export interface AccessLogSettings { format: string; path: string }

const UNSAFE = /["\\\x00-\x1f]/
const UNSAFE_ALL = /["\\\x00-\x1f]/g
/** A field as nginx writes it: `-` when empty, quotes, backslashes and controls as `\xHH`. Most
 *  fields need no escaping: test() first, so the common case allocates nothing. */
const q = (v: unknown): string => {
  if (v === undefined || v === null || v === '') return '-'
  const s = typeof v === 'string' ? v : String(v)
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s
}

export interface AccessEntry {
  time: string
  requestId: string
  client: string
  method: string
  host: string
  uri: string
  protocol: string
  status: number
  bytes: number | null
  durationMs: number
  route: string | null
  upstream: string | null
  cache: string | null
  referer: string | null
  userAgent: string | null
  firewall: string | null
}

/** Gathers the fields of one line from a finished request. */
export function accessEntry(ctx: EdgeContext): AccessEntry {
  const { req, res, notes } = ctx
  const len = res.getHeader('content-length')
  const str = (v: unknown) => (v === undefined ? null : String(v))
  return {
    time: new Date().toISOString(),
    requestId: ctx.requestId,
    client: ctx.clientAddress,
    method: req.method ?? '-',
    host: ctx.host,
    uri: ctx.path + ctx.search,
    protocol: `HTTP/${req.httpVersion}`,
    status: res.statusCode,
    bytes: len === undefined || notes.compressed !== undefined ? null : Number(len),
    durationMs: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6,
    route: ctx.route?.name ?? null,
    upstream: str(notes.upstream),
    cache: str(notes.cache),
    referer: str(req.headers.referer),
    userAgent: str(req.headers['user-agent']),
    firewall: str(notes.firewall),
  }
}

/** One `combined` line straight from the context: the same fields as accessEntry() without
 *  building the entry (nor its ISO timestamp, which this format does not print). */
export function combinedLine(ctx: EdgeContext): string {
  const { req, res, notes } = ctx
  const len = res.getHeader('content-length')
  const bytes = len === undefined || notes.compressed !== undefined ? '-' : Number(len)
  const rt = (Number(process.hrtime.bigint() - ctx.startedAt) / 1e9).toFixed(3)
  const h = req.headers
  return `${ctx.clientAddress} - - [${clfTime(Date.now())}] "${q(req.method ?? '-')} ${q(ctx.path + ctx.search)} HTTP/${req.httpVersion}" ${res.statusCode} ${bytes} "${q(h.referer)}" "${q(h['user-agent'])}" rid=${ctx.requestId} rt=${rt} route=${q(ctx.route?.name)} upstream=${q(notes.upstream)} cache=${q(notes.cache)}`
}

export class AccessLog {
  readonly format: 'combined' | 'json' | 'off'
  #path: string
  #out: NodeJS.WritableStream | null = null
  #file: WriteStream | null = null
  #buf: string[] = []
  #scheduled = false

  constructor(s: AccessLogSettings, out?: NodeJS.WritableStream) {
    this.format = s.format as 'combined' | 'json' | 'off'
    this.#path = s.path
    if (this.format === 'off') return
    if (out) this.#out = out
    else this.#open()
  }

  #open(): void {
    if (this.#path === '-') { this.#out = process.stdout; return }
    this.#file = createWriteStream(this.#path, { flags: 'a' })
    this.#file.on('error', (e) => console.error(`edge: access log ${this.#path}: ${e.message}`))
    this.#out = this.#file
  }

  get enabled(): boolean {
    return this.format !== 'off'
  }

  log(ctx: EdgeContext): void {
    // `accessLog: false` in the notes: an internal request (the journey's OTLP posts from this host).
    if (this.format === 'off' || ctx.notes.accessLog === false) return
    this.#buf.push(this.format === 'json' ? JSON.stringify(accessEntry(ctx)) : combinedLine(ctx))
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.#scheduled = false
    if (this.#buf.length === 0 || !this.#out) return
    const text = this.#buf.join('\n') + '\n'
    this.#buf = []
    this.#out.write(text)
  }

  /** Reopens the file (after logrotate moved it). */
  reopen(): void {
    if (!this.#file) return
    this.flush()
    this.#file.end()
    this.#open()
  }

  async close(): Promise<void> {
    this.flush()
    const f = this.#file
    if (f) await new Promise<void>((r) => f.end(r))
  }
}
