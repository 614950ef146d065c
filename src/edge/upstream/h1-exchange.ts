// One request through the edge's own HTTP/1.1 upstream client, from dispatch to the end of its
// response: the request head (built once), the request body streamed with backpressure, and the
// controller its handler uses to pause, resume or abort. The handler callbacks have the shape of
// undici's dispatch handlers, so the proxy drives both clients alike.
import type { Readable } from 'node:stream'
import { upstreamError, type H1Connection } from './h1-connection.ts'

export interface UpstreamController {
  abort(err: Error): void
  pause(): void
  resume(): void
}

/** What the client calls, in this order: start, response start, data…, end — or error at any point. */
export interface UpstreamHandler {
  onRequestStart?(controller: UpstreamController, context: unknown): void
  onResponseStart?(controller: UpstreamController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void
  onResponseData?(controller: UpstreamController, chunk: Buffer): void
  /**
   * Asked right after onResponseData by the edge's own client, whose chunks are views of its read
   * buffer: true when nothing refers to that chunk any more (its bytes were written through), so
   * the next read may reuse the memory. Without it, or false, the client reads on into new memory.
   */
  chunkReleased?(): boolean
  onResponseEnd?(controller: UpstreamController, trailers: Record<string, string | string[] | undefined>): void
  onResponseError?(controller: UpstreamController | undefined, err: Error): void
}

export interface UpstreamRequest {
  method: string
  /** Path and query. */
  path: string
  /** Lower-case names; `host` included. Hop-by-hop headers are the caller's to remove. */
  headers: Record<string, string | string[] | undefined>
  body: Readable | null
  /** Max wait for the response head after the request went out (ms). */
  headersTimeout: number
  /** Max wait between two response body reads (ms). */
  bodyTimeout: number
}

export interface ExchangeOwner {
  /** Forget a queued exchange that was aborted before it got a connection. */
  dequeue(ex: Exchange): void
  /** The exchange ended (response complete, failed or aborted). */
  finished(): void
}

/** Idempotent methods (RFC 9110 §9.2.2): safe to send again after the keep-alive race. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** CR, LF and NUL would split or end the head (header injection); other controls are refused too. */
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/
const BAD_TARGET = /[\0-\x20\x7f]/
const EMPTY = Object.freeze({})

function invalid(what: string): Error {
  return upstreamError(`invalid request for upstream: ${what}`, 'CW_INVALID_REQUEST')
}

/**
 * Header names already checked against TOKEN: requests repeat the same few dozen names, so a set
 * lookup spares a regex test per header (names up to 64 characters; cleared when full).
 */
const goodNames = new Set<string>()

function checkName(name: string): void {
  if (goodNames.has(name)) return
  if (!TOKEN.test(name)) throw invalid(`header name ${JSON.stringify(name)}`)
  if (name.length > 64) return
  if (goodNames.size >= 1024) goodNames.clear()
  goodNames.add(name)
}

/**
 * The request head as one latin1 string (header values are latin1 strings in node:http, so bytes
 * round-trip), built in one pass over the headers. Throws for a header that would corrupt the
 * head: the values are checked together, with one regex test over all of them, and only on a
 * failure one by one to name the culprit.
 */
function requestHead(req: UpstreamRequest, length: number): string {
  if (!TOKEN.test(req.method)) throw invalid('method')
  if (BAD_TARGET.test(req.path) || req.path === '') throw invalid('request target')
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`
  let values = ''
  const headers = req.headers
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    checkName(name)
    if (typeof value === 'string') {
      values += value
      head += `${name}: ${value}\r\n`
    } else {
      for (const v of value) {
        values += v
        head += `${name}: ${v}\r\n`
      }
    }
  }
  if (BAD_VALUE.test(values)) {
    for (const name in headers) {
      const value = headers[name]
      if (value !== undefined && (typeof value === 'string' ? BAD_VALUE.test(value) : value.some((v) => BAD_VALUE.test(v)))) throw invalid(`value of ${name}`)
    }
  }
  if (length === -1) head += 'transfer-encoding: chunked\r\n'
  else if (length === 0 && req.body === null && headers['content-length'] === undefined && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) head += 'content-length: 0\r\n'
  if (headers.connection === undefined) head += 'connection: keep-alive\r\n'
  return `${head}\r\n`
}

export class Exchange implements UpstreamController {
  readonly request: UpstreamRequest
  readonly handler: UpstreamHandler
  readonly head: string
  /** The connection carrying it (null while queued). */
  connection: H1Connection | null = null
  paused = false
  aborted = false
  #owner: ExchangeOwner
  #done = false
  #started = false
  #replayed = false
  /** Declared body length; -1 = chunked. */
  #length: number
  #written = 0
  #bodyOn = false
  #listeners: { drain: () => void; data: (chunk: Buffer) => void; end: () => void; error: (err: Error) => void } | undefined

  /** Throws (before anything is sent) when the request cannot be written as given. */
  constructor(owner: ExchangeOwner, request: UpstreamRequest, handler: UpstreamHandler) {
    this.#owner = owner
    this.request = request
    this.handler = handler
    const cl = request.headers['content-length']
    if (request.body === null) this.#length = 0
    else if (typeof cl === 'string') {
      if (!/^\d{1,15}$/.test(cl)) throw invalid('Content-Length')
      this.#length = Number(cl)
    } else this.#length = -1
    this.head = requestHead(request, this.#length)
  }

  // ---- the controller, for the handler ----

  abort(err: Error): void {
    if (this.#done) return
    this.#done = true
    this.aborted = true
    if (this.connection !== null) this.connection.abandon(this)
    else this.#owner.dequeue(this)
    this.#owner.finished()
    this.handler.onResponseError?.(this, err)
  }

  pause(): void {
    this.paused = true
    this.connection?.pause()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.connection?.resume()
  }

  // ---- called by the connection ----

  started(): void {
    if (this.#started) return
    this.#started = true
    this.handler.onRequestStart?.(this, EMPTY)
  }

  responseStart(status: number, headers: Record<string, string | string[]>): void {
    if (!this.#done) this.handler.onResponseStart?.(this, status, headers, '')
  }

  /** `chunk` is a view of the connection's read buffer (h1-connection.ts). */
  data(chunk: Buffer): void {
    if (this.#done) return
    const h = this.handler
    h.onResponseData?.(this, chunk)
    if (h.chunkReleased?.() !== true) this.connection?.holdReadBuffer()
  }

  end(): void {
    if (this.#done) return
    this.#done = true
    this.#owner.finished()
    this.handler.onResponseEnd?.(this, EMPTY)
  }

  fail(err: Error): void {
    if (this.#done) return
    this.#done = true
    this.#owner.finished()
    this.handler.onResponseError?.(this, err)
  }

  /** May this exchange go out again on a fresh connection (once, idempotent, no body byte consumed)? */
  replayable(): boolean {
    if (this.#done || this.#replayed || !IDEMPOTENT.has(this.request.method)) return false
    const body = this.request.body as (Readable & { started?: boolean }) | null
    if (body !== null && (this.#written > 0 || body.started === true)) return false
    this.#replayed = true
    this.connection = null
    return true
  }

  streamBody(conn: H1Connection): void {
    const body = this.request.body!
    // Made here, not as fields: most requests have no body, and each closure costs.
    const l = this.#listeners ??= {
      drain: () => { this.request.body?.resume() },
      data: (chunk: Buffer) => { this.#onBodyData(chunk) },
      end: () => { this.#onBodyEnd() },
      error: (err: Error) => { this.#onBodyError(err) },
    }
    this.#bodyOn = true
    conn.socket.on('drain', l.drain)
    body.on('data', l.data)
    body.once('end', l.end)
    body.once('error', l.error)
    body.resume()
  }

  detachBody(): void {
    if (!this.#bodyOn) return
    this.#bodyOn = false
    const body = this.request.body!
    const l = this.#listeners!
    body.off('data', l.data)
    body.off('end', l.end)
    body.off('error', l.error)
    body.pause()
    this.connection?.socket.off('drain', l.drain)
  }

  #onBodyData(chunk: Buffer): void {
    const conn = this.connection!
    this.#written += chunk.length
    if (this.#length >= 0) {
      if (this.#written > this.#length) return this.#bodyFailed(conn, invalid('body longer than its Content-Length'), 'CW_REQ_CONTENT_LENGTH_MISMATCH')
      if (!conn.socket.write(chunk)) this.request.body!.pause()
      return
    }
    if (chunk.length === 0) return
    const sock = conn.socket
    sock.cork()
    sock.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
    sock.write(chunk)
    const ok = sock.write('\r\n', 'latin1')
    sock.uncork()
    if (!ok) this.request.body!.pause()
  }

  #onBodyEnd(): void {
    const conn = this.connection!
    if (this.#length >= 0 && this.#written !== this.#length) return this.#bodyFailed(conn, invalid('body shorter than its Content-Length'), 'CW_REQ_CONTENT_LENGTH_MISMATCH')
    if (this.#length === -1) conn.socket.write('0\r\n\r\n', 'latin1')
    this.detachBody()
    conn.bodyWritten(this)
  }

  #onBodyError(err: Error): void {
    this.detachBody()
    if (this.connection !== null) this.connection.bodyFailed(this, err)
  }

  #bodyFailed(conn: H1Connection, err: Error, code: string): void {
    this.detachBody()
    conn.bodyFailed(this, Object.assign(err, { code }))
  }
}
