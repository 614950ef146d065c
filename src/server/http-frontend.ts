// A worker's HTTP side: node:http servers (one per bind) with the limits applied, client identity
// established, the app called, and a drain that finishes in-flight requests and closes keep-alive
// connections without racing clients (a connection is closed only after a response that said
// `Connection: close`, or after it sat idle for a moment).
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { CONNECTION_INFO, type App } from '../contract.ts'
import { CidrSet } from '../net/ip.ts'
import { checkRequestHead, maxHeaderSize, rejectionForParseError, type HttpLimits } from './http-limits.ts'
import { rejectOnSocket, statusText, type Rejection } from '../net/reject-on-socket.ts'
import { connectionInfo, isTrustedPeer } from './client-identity.ts'
import { journeyEnabled } from '../journey/index.ts'
import { traceWorkerRequest } from './journey.ts'
import { acceptProxyHeader } from './proxy-accept.ts'
import type { ServerSettings, BindAddress } from './settings.ts'
import type { ServerHooks } from './hooks.ts'
import type { AccessLog, ErrorLog } from './logging.ts'
import type { RequestSlot } from './watchdog.ts'

const ACTIVE = Symbol('active')
const LAST = Symbol('lastActivity')
const REJECTED = Symbol('rejected')
const STARTED = Symbol('started')
const COUNT = Symbol('requestCount')
const APP_CALLED = Symbol('appCalled')

type TrackedSocket = net.Socket & { [ACTIVE]: number; [LAST]: number; [COUNT]: number; [REJECTED]?: boolean; _httpMessage?: http.ServerResponse | null }
type TimedRequest = http.IncomingMessage & { [STARTED]?: number }

/** How long an idle keep-alive connection is left alone during a drain before it is closed. */
const DRAIN_IDLE_GRACE_MS = 1000

export interface FrontendOptions {
  settings: ServerSettings
  app: App
  hooks: ServerHooks
  errorLog: ErrorLog
  accessLog?: AccessLog
  slot?: RequestSlot
  /** Called once when the worker reached its (jittered) maxRequests. */
  onRecycle?: () => void
}

/**
 * @example
 * const front = new HttpFrontend({ settings, app, hooks: {}, errorLog })
 * await front.listen([{ kind: 'tcp', host: '127.0.0.1', port: 8000 }])
 * await front.drain(30_000)
 */
export class HttpFrontend {
  readonly #o: FrontendOptions
  readonly #limits: HttpLimits
  readonly #trusted: CidrSet
  readonly #proxyAllowed: CidrSet
  readonly #servers: http.Server[] = []
  readonly #listeners: net.Server[] = []
  readonly #sockets = new Set<TrackedSocket>()
  #draining = false
  #closed = false
  #served = 0
  #recycleAt: number
  /** Whether anyone needs a request's duration (access log, postRequest). */
  readonly #timed: boolean
  readonly #perConnection: number

  constructor(o: FrontendOptions) {
    this.#o = o
    const s = o.settings
    this.#limits = { limitRequestLine: s.limitRequestLine, limitRequestFields: s.limitRequestFields, limitRequestFieldSize: s.limitRequestFieldSize, limitRequestBody: s.limitRequestBody }
    this.#trusted = new CidrSet(s.forwardedAllowIps)
    this.#proxyAllowed = new CidrSet(s.proxyAllowIps)
    this.#perConnection = s.maxRequestsPerConnection
    this.#timed = o.accessLog !== undefined || o.hooks.postRequest !== undefined
    this.#recycleAt = s.maxRequests > 0 ? s.maxRequests + Math.floor(Math.random() * (s.maxRequestsJitter + 1)) : Infinity
  }

  get requestsServed(): number {
    return this.#served
  }

  #createServer(): http.Server {
    const s = this.#o.settings
    const headersTimeout = s.requestTimeout > 0 ? Math.min(s.headersTimeout, s.requestTimeout) : s.headersTimeout
    const server = http.createServer({
      maxHeaderSize: maxHeaderSize(this.#limits),
      keepAliveTimeout: s.keepAliveTimeout,
      headersTimeout,
      requestTimeout: s.requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      requireHostHeader: true,
    })
    server.maxHeadersCount = s.limitRequestFields + 1
    // Not node's maxRequestsPerSocket: node 20 then says `Connection: close` but leaves the socket
    // open until the keep-alive timeout. Counted in #onRequest instead.
    server.on('connection', this.#onConnection)
    server.on('request', this.#onRequest)
    server.on('checkContinue', this.#onCheckContinue)
    server.on('clientError', this.#onClientError)
    return server
  }

  /** Listens on every bind; resolves once all listen, rejects with the first bind error. */
  async listen(binds: BindAddress[]): Promise<void> {
    const s = this.#o.settings
    await Promise.all(binds.map((b) => {
      const server = this.#createServer()
      this.#servers.push(server)
      // With the PROXY protocol a plain net.Server reads the header first, then hands the socket on.
      const listener: net.Server = this.#o.settings.proxyProtocol
        ? net.createServer({ noDelay: true }, (sock) => acceptProxyHeader(sock, server, this.#proxyAllowed, s.headersTimeout))
        : server
      // node:http starts checking headersTimeout/requestTimeout when its server emits 'listening';
      // behind the PROXY reader it never listens itself, so it is told when the reader does.
      if (listener !== server) listener.on('listening', () => server.emit('listening'))
      this.#listeners.push(listener)
      return new Promise<void>((resolve, reject) => {
        listener.once('error', reject)
        const done = () => { listener.off('error', reject); resolve() }
        if (b.kind === 'unix') listener.listen({ path: b.path }, done)
        else listener.listen({ host: b.host, port: b.port }, done)
      })
    }))
  }

  /** Addresses actually bound (port 0 resolved). */
  addresses(): (net.AddressInfo | string | null)[] {
    return this.#listeners.map((l) => l.address())
  }

  #onConnection = (sock: net.Socket): void => {
    const t = sock as TrackedSocket
    t[ACTIVE] = 0
    t[COUNT] = 0
    t[LAST] = performance.now()
    this.#sockets.add(t)
    sock.once('close', () => this.#sockets.delete(t))
  }

  readonly #onResponseClose: (this: http.ServerResponse) => void = (() => {
    const self = this
    return function (this: http.ServerResponse) { self.#finished(this) }
  })()

  #onCheckContinue = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // Refuse an oversized upload before the client sends it.
    if (!checkRequestHead(req, this.#limits)) res.writeContinue()
    this.#onRequest(req, res)
  }

  #onClientError = (err: Error & { code?: string }, socket: net.Socket): void => {
    const t = socket as TrackedSocket
    t[REJECTED] = true
    // Once the app has the request (the error came in a later packet of its body), the response
    // is the app's: writing our own would interleave with it, so the connection just ends.
    const current = t._httpMessage as (http.ServerResponse & { [APP_CALLED]?: boolean }) | null | undefined
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable || current?.headersSent || current?.[APP_CALLED]) {
      socket.destroy()
      return
    }
    const r = rejectionForParseError(err, this.#limits)
    this.#o.errorLog.debug(`rejected ${r.status} from ${socket.remoteAddress}: ${err.code} ${err.message}`)
    rejectOnSocket(socket, r)
  }

  #onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const socket = req.socket as TrackedSocket
    socket[ACTIVE]++
    if (this.#timed) (req as TimedRequest)[STARTED] = performance.now()
    res.on('close', this.#onResponseClose)
    const bad = checkRequestHead(req, this.#limits)
    if (bad) return this.#reject(res, bad)
    ;(req as unknown as Record<symbol, unknown>)[CONNECTION_INFO] = connectionInfo(req, this.#trusted, false)
    if (this.#draining || (this.#perConnection > 0 && ++socket[COUNT] >= this.#perConnection)) res.shouldKeepAlive = false
    if (this.#limits.limitRequestBody > 0 && req.headers['transfer-encoding'] !== undefined) this.#limitChunkedBody(req, res)
    // Deferred until the parser has finished this packet: if the rest of it is malformed (a bad
    // chunk after a good head), the parser's error lands first and the app never sees the
    // request. nextTick with arguments, not queueMicrotask, which wraps every callback in an
    // AsyncResource.
    process.nextTick(HttpFrontend.#deferred, this, req, res)
  }

  static #deferred(front: HttpFrontend, req: http.IncomingMessage, res: http.ServerResponse): void {
    front.#callApp(req, res)
  }

  #callApp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const socket = req.socket as TrackedSocket
    if (socket[REJECTED] || socket.destroyed || res.writableEnded) return
    const info = (req as unknown as Record<symbol, { requestId?: string; clientAddress: string }>)[CONNECTION_INFO]!
    ;(res as http.ServerResponse & { [APP_CALLED]?: boolean })[APP_CALLED] = true
    this.#o.slot?.enter(req.method!, req.url!, info.requestId)
    if (journeyEnabled()) {
      traceWorkerRequest(req, res, isTrustedPeer(req), info.clientAddress, () => {
        this.#o.hooks.preRequest?.(req, res)
        return this.#o.app.handle(req, res)
      }).catch((e) => this.#appError(e, req, res))
      return
    }
    try {
      this.#o.hooks.preRequest?.(req, res)
      const r = this.#o.app.handle(req, res)
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, (e) => this.#appError(e, req, res))
    } catch (e) {
      this.#appError(e, req, res)
    }
  }

  #appError(e: unknown, req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#o.errorLog.error(`Error handling request ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`)
    if (res.headersSent) res.destroy()
    else this.#reject(res, { status: 500, reason: 'the application failed' })
  }

  #reject(res: http.ServerResponse, r: Rejection): void {
    const body = `${r.status} ${statusText(r.status)}: ${r.reason}\n`
    ;(res.req.socket as TrackedSocket)[REJECTED] = r.status < 500
    res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' })
    res.end(body)
  }

  /** A chunked body has no length up front: count it as the parser delivers it. */
  #limitChunkedBody(req: http.IncomingMessage, res: http.ServerResponse): void {
    const limit = this.#limits.limitRequestBody
    const push = req.push
    let seen = 0
    req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk == null || seen > limit) return seen > limit ? true : push.call(req, chunk, encoding)
      seen += (chunk as Buffer).length
      if (seen <= limit) return push.call(req, chunk, encoding)
      const err = Object.assign(new Error('request body too large'), { status: 413, code: 'CW_ERR_BODY_TOO_LARGE' })
      if (res.headersSent) req.destroy(err)
      else {
        this.#reject(res, { status: 413, reason: 'request body too large' })
        res.once('finish', () => req.destroy(err))
      }
      return true
    }
  }

  #finished(res: http.ServerResponse): void {
    const req = res.req as TimedRequest
    const socket = req.socket as TrackedSocket
    socket[ACTIVE]--
    const now = performance.now()
    socket[LAST] = now
    this.#o.slot?.leave()
    const o = this.#o
    if (this.#timed) {
      const ms = now - req[STARTED]!
      o.accessLog?.write(req, res, ms)
      try {
        o.hooks.postRequest?.(req, res, ms)
      } catch (e) {
        o.errorLog.error(`hook postRequest failed: ${(e as Error)?.stack ?? String(e)}`)
      }
    }
    if (++this.#served === this.#recycleAt) o.onRecycle?.()
  }

  /**
   * Stops accepting, lets in-flight requests finish (their responses say `Connection: close`),
   * closes keep-alive connections once idle, and resolves when none is left or after `timeoutMs`
   * (then the rest are destroyed). Calls `app.close()` at the end.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (!this.#draining) {
      this.#draining = true
      // net.Server's close, not http.Server's: the latter also drops idle keep-alive connections
      // at once, racing clients that are sending their next request on them right now.
      for (const l of this.#listeners) net.Server.prototype.close.call(l)
      for (const sock of this.#sockets) {
        const m = sock._httpMessage
        if (m && !m.headersSent) m.shouldKeepAlive = false
      }
    }
    const deadline = performance.now() + timeoutMs
    while (this.#sockets.size > 0 && performance.now() < deadline) {
      const now = performance.now()
      for (const sock of this.#sockets) {
        if (sock[ACTIVE] === 0 && now - sock[LAST] >= DRAIN_IDLE_GRACE_MS && !sock.writableEnded) sock.end()
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    for (const sock of this.#sockets) sock.destroy()
    if (!this.#closed) {
      this.#closed = true
      await this.#o.app.close?.()
    }
  }

  get draining(): boolean {
    return this.#draining
  }
}
