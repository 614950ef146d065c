// One keep-alive HTTP/1.1 connection to a plain-http or unix-socket upstream, carrying one request
// at a time (no pipelining): the request head goes out as one string write, the body streams with
// backpressure, the response head is parsed by hand and the body is relayed as slices of the
// connection's read buffer. Its pool (h1-pool.ts) decides which request it carries next.
//
// Reads go into that buffer (net's `onread`), not into the fresh zero-filled 64 KiB node allocates
// for every read of a stream socket and then copies the bytes out of: that allocation, its zeroing
// and the copy were a sixth of the edge's instructions per proxied page. A body chunk is therefore
// a view of memory the next read overwrites: the exchange asks its handler whether it still holds
// the chunk (a write still queued, a compressor, a cache entry) and, if so, the connection reads
// on into a new buffer and leaves the old one to the holder.
import net from 'node:net'
import { ChunkedDecoder } from './chunked-decoder.ts'
import { parseResponseHead } from './response-head.ts'
import type { Exchange } from './h1-exchange.ts'

/** Bytes one read takes at most (what node's own stream sockets read at once). */
const READ_BUFFER = 64 * 1024

/** A response head larger than this is refused with 502 (undici's and Node's default, 16 KiB). */
export const MAX_RESPONSE_HEAD = 16 * 1024

const CRLFCRLF = Buffer.from('\r\n\r\n')

// Where the connection is in its current exchange.
const IDLE = 0
const HEAD = 1
const BODY_LENGTH = 2
const BODY_CHUNKED = 3
const BODY_CLOSE = 4

// Which deadline is armed.
const NO_TIMER = 0
const CONNECT_TIMER = 1
const HEADERS_TIMER = 2
const BODY_TIMER = 3
const IDLE_TIMER = 4

export interface ConnectionOwner {
  readonly connectOptions: net.NetConnectOpts
  readonly connectTimeout: number
  /** The exchange finished and the connection can carry another. */
  released(c: H1Connection): void
  /** The connection is gone; `retry` is an exchange to send again on a fresh connection. */
  removed(c: H1Connection, retry: Exchange | undefined): void
}

export function upstreamError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}

export class H1Connection {
  readonly owner: ConnectionOwner
  readonly socket: net.Socket
  /** Idle connections close after this many ms (the upstream's own Keep-Alive timeout may lower it). */
  idleTimeout: number
  #connected = false
  #closed = false
  /** Carried at least one whole exchange: a failure before any byte may be the keep-alive race. */
  #reused = false
  #ex: Exchange | null = null
  #state = IDLE
  /** Bytes of a response head split across reads. */
  #pending: Buffer | null = null
  #remaining = 0
  #chunked: ChunkedDecoder | null = null
  #keepAlive = true
  /** Any response byte arrived for the current exchange. */
  #gotBytes = false
  #requestDone = true
  #timer = NO_TIMER
  #deadline = 0
  #active = false
  /** Where the socket reads to; not zero-filled (only the bytes read are ever looked at). */
  #readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER)
  /** A handler still holds a chunk of #readBuffer: the next read goes to a new one. */
  #readBufferHeld = false

  constructor(owner: ConnectionOwner, idleTimeout: number) {
    this.owner = owner
    this.idleTimeout = idleTimeout
    // `buffer` as a function: net asks it for the buffer of every next read.
    const socket = net.connect({ ...owner.connectOptions, onread: { buffer: this.#nextReadBuffer, callback: this.#onRead } })
    this.socket = socket
    socket.setNoDelay(true)
    this.#arm(CONNECT_TIMER, owner.connectTimeout)
    socket.on('connect', this.#onConnect)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
  }

  get busy(): boolean {
    return this.#ex !== null
  }

  /** Carries `ex` now (or once connected). */
  send(ex: Exchange): void {
    this.#ex = ex
    ex.connection = this
    this.#timer = NO_TIMER
    if (this.#connected) this.#start(ex)
  }

  /** Deadline checks, once a tick (coarse-clock.ts). */
  tick(now: number): void {
    const t = this.#timer
    if (t === NO_TIMER) return
    if (t === BODY_TIMER && (this.#active || this.#ex?.paused)) {
      // Data arrived since the last tick, or the client is the slow one: the upstream is not idle.
      this.#active = false
      this.#deadline = now + this.#ex!.request.bodyTimeout
      return
    }
    if (now < this.#deadline) return
    if (t === IDLE_TIMER) return this.destroy()
    const code = t === CONNECT_TIMER ? 'CW_CONNECT_TIMEOUT' : t === HEADERS_TIMER ? 'CW_HEADERS_TIMEOUT' : 'CW_BODY_TIMEOUT'
    const what = t === CONNECT_TIMER ? 'connect' : t === HEADERS_TIMER ? 'response head' : 'response body'
    this.#fail(upstreamError(`upstream ${what} timeout`, code))
  }

  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  /** The exchange is abandoned by its handler: the connection cannot be reused mid-flight. */
  abandon(ex: Exchange): void {
    if (this.#ex !== ex) return
    this.#ex = null
    ex.detachBody()
    this.destroy()
  }

  destroy(): void {
    if (this.#closed) return
    this.#closed = true
    this.#timer = NO_TIMER
    this.socket.destroy()
    const ex = this.#ex
    this.#ex = null
    // An exchange still on board when the connection goes (pool destroy) fails.
    if (ex !== null) ex.fail(upstreamError('upstream connection closed', 'CW_UPSTREAM_CLOSED'))
    this.owner.removed(this, undefined)
  }

  #arm(timer: number, ms: number): void {
    this.#timer = timer
    this.#deadline = Date.now() + ms
  }

  #onConnect = () => {
    this.#connected = true
    this.#timer = NO_TIMER
    const ex = this.#ex
    if (ex !== null) this.#start(ex)
  }

  #start(ex: Exchange): void {
    this.#state = HEAD
    this.#gotBytes = false
    this.#keepAlive = true
    ex.started()
    // The handler may have aborted in onRequestStart (a client already gone).
    if (this.#ex !== ex) return
    const req = ex.request
    if (req.body === null) {
      this.#requestDone = true
      this.#arm(HEADERS_TIMER, req.headersTimeout)
      this.socket.write(ex.head, 'latin1')
      return
    }
    // The wait for the answer starts once the body is out: a slow upload is the client's pace.
    this.#timer = NO_TIMER
    this.#requestDone = false
    this.socket.write(ex.head, 'latin1')
    ex.streamBody(this)
  }

  /** The request body was fully written (called by the exchange). */
  bodyWritten(ex: Exchange): void {
    if (this.#ex !== ex) return // answered early: the connection was dropped then
    this.#requestDone = true
    if (this.#state === HEAD) this.#arm(HEADERS_TIMER, ex.request.headersTimeout)
  }

  /** The request body failed to stream (client gone, length mismatch): fail the exchange. */
  bodyFailed(ex: Exchange, err: Error): void {
    if (this.#ex === ex) this.#fail(err)
  }

  /** The exchange's handler keeps the chunk it was just given (see the top). */
  holdReadBuffer(): void {
    this.#readBufferHeld = true
  }

  #nextReadBuffer = (): Buffer => {
    if (this.#readBufferHeld) {
      this.#readBufferHeld = false
      this.#readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER)
    }
    return this.#readBuffer
  }

  /** `buf` is #readBuffer. Always true: pausing is the controller's (socket.pause()). */
  #onRead = (n: number, buf: Uint8Array): boolean => {
    const b = buf as Buffer
    this.#onData(n === b.length ? b : b.subarray(0, n))
    return true
  }

  #onData(buf: Buffer): void {
    const ex = this.#ex
    if (ex === null) {
      // Bytes nobody asked for: this connection no longer speaks in step; drop it.
      this.destroy()
      return
    }
    this.#gotBytes = true
    this.#active = true
    let i = 0
    try {
      while (i < buf.length && this.#ex === ex) {
        switch (this.#state) {
          case HEAD: {
            if (this.#pending !== null) {
              const from = Math.max(0, this.#pending.length - 3)
              buf = Buffer.concat([this.#pending, buf.subarray(i)])
              this.#pending = null
              i = 0
              const end = buf.indexOf(CRLFCRLF, from)
              if (end === -1) { this.#keepHead(buf); return }
              i = this.#head(ex, buf, 0, end)
            } else {
              const end = buf.indexOf(CRLFCRLF, i)
              if (end === -1) { this.#keepHead(i === 0 ? buf : buf.subarray(i)); return }
              i = this.#head(ex, buf, i, end)
            }
            break
          }
          case BODY_LENGTH: {
            const take = Math.min(this.#remaining, buf.length - i)
            const piece = i === 0 && take === buf.length ? buf : buf.subarray(i, i + take)
            i += take
            this.#remaining -= take
            ex.data(piece)
            if (this.#remaining === 0 && this.#ex === ex) this.#finish(ex, i < buf.length)
            break
          }
          case BODY_CHUNKED: {
            const end = this.#chunked!.execute(buf, i, ex)
            if (end === -1) return
            if (this.#ex === ex) this.#finish(ex, end < buf.length)
            return
          }
          case BODY_CLOSE:
            ex.data(i === 0 ? buf : buf.subarray(i))
            return
          default:
            return
        }
      }
    } catch (err) {
      this.#fail(err as Error)
    }
  }

  #keepHead(part: Buffer): void {
    if (part.length > MAX_RESPONSE_HEAD) throw upstreamError(`upstream response head larger than ${MAX_RESPONSE_HEAD} bytes`, 'CW_UPSTREAM_HEAD_TOO_LARGE')
    // A copy: the socket's buffer may be reused, and the head must wait for the next read.
    this.#pending = Buffer.from(part)
  }

  /** Parses the head from `start` to `end` and starts the body; returns the offset after the head. */
  #head(ex: Exchange, buf: Buffer, start: number, end: number): number {
    if (end - start > MAX_RESPONSE_HEAD) throw upstreamError(`upstream response head larger than ${MAX_RESPONSE_HEAD} bytes`, 'CW_UPSTREAM_HEAD_TOO_LARGE')
    const head = parseResponseHead(buf.toString('latin1', start, end), ex.request.method)
    const next = end + 4
    if (head.status < 200) {
      // 1xx informational heads are not forwarded; a 101 without an Upgrade request is a protocol error.
      if (head.status === 101) throw upstreamError('malformed upstream response: 101 to a request without Upgrade', 'CW_UPSTREAM_BAD_RESPONSE')
      return next
    }
    this.#keepAlive = head.keepAlive
    if (head.keepAliveTimeout > 0) this.idleTimeout = Math.min(this.idleTimeout, head.keepAliveTimeout - 1000)
    switch (head.framing) {
      case 'length': this.#state = BODY_LENGTH; this.#remaining = head.length; break
      case 'chunked': this.#state = BODY_CHUNKED; this.#chunked = new ChunkedDecoder(); break
      case 'close': this.#state = BODY_CLOSE; break
      default: this.#state = IDLE
    }
    if (this.#state !== IDLE) this.#arm(BODY_TIMER, ex.request.bodyTimeout)
    else this.#timer = NO_TIMER
    ex.responseStart(head.status, head.headers)
    if (this.#state === IDLE && this.#ex === ex) this.#finish(ex, next < buf.length)
    return next
  }

  /** The response is complete. `extra`: bytes followed it that nobody asked for. */
  #finish(ex: Exchange, extra: boolean): void {
    this.#ex = null
    this.#state = IDLE
    this.#chunked = null
    this.#timer = NO_TIMER
    this.#reused = true
    const reusable = this.#keepAlive && this.#requestDone && !extra && !this.#closed && this.idleTimeout > 0
    // Still sending the body (an early answer): stop; the connection is not reusable.
    if (!this.#requestDone) ex.detachBody()
    ex.end()
    if (this.#closed) return
    if (!reusable) {
      this.destroy()
      return
    }
    if (this.socket.isPaused()) this.socket.resume()
    this.#arm(IDLE_TIMER, this.idleTimeout)
    this.owner.released(this)
  }

  #fail(err: Error): void {
    if (this.#closed) return
    const ex = this.#ex
    this.#ex = null
    this.#closed = true
    this.#timer = NO_TIMER
    this.socket.destroy()
    let retry: Exchange | undefined
    if (ex !== null) {
      ex.detachBody()
      // The keep-alive race: the upstream closed this idle connection just as the request went
      // out. Nothing came back, so an idempotent request without a consumed body is sent again
      // on a fresh connection — not a failure of the upstream.
      const c = (err as { code?: string }).code
      const stale = this.#reused && !this.#gotBytes && (c === 'CW_UPSTREAM_CLOSED' || c === 'ECONNRESET' || c === 'EPIPE')
      if (stale && ex.replayable()) retry = ex
      else ex.fail(err)
    }
    this.owner.removed(this, retry)
  }

  #onEnd = () => {
    if (this.#state === BODY_CLOSE && this.#ex !== null) {
      const ex = this.#ex
      this.#keepAlive = false
      this.#finish(ex, false)
      return
    }
    if (this.#ex !== null) {
      const what = this.#state === HEAD ? (this.#gotBytes ? 'in the response head' : 'before responding') : 'in the response body'
      this.#fail(upstreamError(`upstream closed the connection ${what}`, 'CW_UPSTREAM_CLOSED'))
      return
    }
    this.destroy()
  }

  #onError = (err: Error) => {
    if (this.#ex !== null) this.#fail(err)
    else this.destroy()
  }

  #onClose = () => {
    if (this.#ex !== null) this.#fail(upstreamError('upstream connection closed', 'CW_UPSTREAM_CLOSED'))
    else this.destroy()
  }
}
