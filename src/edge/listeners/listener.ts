// One listening socket: plain HTTP/1.1, HTTPS, or HTTPS with HTTP/2 by ALPN (HTTP/1.1 fallback
// through the compatibility API, so every request reaches the engine as req/res). It applies the
// head/body/idle/keep-alive timeouts and the head size limit, tracks connections and in-flight
// requests, and closes gracefully: stop accepting, let requests finish (HTTP/2 GOAWAY), drop idle
// keep-alive connections, cut whatever is left after the shutdown timeout. With `proxyProtocol` a
// plain net.Server accepts, reads the PROXY header off the raw socket (before TLS), and hands the
// socket to the HTTP/TLS server with the header's client as its peer (peerAddressOf).
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net, { type AddressInfo, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { EdgeRequest, EdgeResponse } from '../context.ts'
import type { EdgeSettings, ListenerSettings } from '../config/validate.ts'
import { buildSni, type SniTable } from './sni.ts'
import { PROXIED_PEER, readProxyHeader, type ProxiedSocket } from '../../net/proxy-accept.ts'
import { rejectOnSocket } from '../../net/reject-on-socket.ts'
import type { CidrSet } from '../../net/ip.ts'

export interface ListenerHooks {
  /** `expectContinue`: the client waits for `100 Continue` before sending its body. */
  request(req: EdgeRequest, res: EdgeResponse, listener: Listener, expectContinue?: boolean): void
  /** A TCP connection opened; return false to refuse it (limit_conn). */
  connection?(socket: Socket): boolean
  /** HTTP/1.1 Upgrade (WebSocket). Without it upgrades are refused. */
  upgrade?(req: http.IncomingMessage, socket: Socket, head: Buffer, listener: Listener): void
}

type AnyServer = http.Server | https.Server | http2.Http2SecureServer

export interface ListenerAddress {
  host: string
  port: number
  scheme: 'http' | 'https'
  http2: boolean
  url: string
}

export class Listener {
  settings: ListenerSettings
  readonly server: AnyServer
  /** What listens: `server` itself, or the net.Server that reads PROXY headers first. */
  readonly #acceptor: net.Server
  readonly secure: boolean
  /** Peers that may (and must) send a PROXY header: edge.trustedProxies. */
  #proxyFrom: CidrSet
  /** Connections still waiting for their PROXY header. */
  #awaitingHeader = new Set<Socket>()
  #sni: SniTable | undefined
  #raw = new Set<Socket>()
  /** HTTP/1.x connections (plain sockets, or TLS sockets that did not pick h2) → requests in flight. */
  #h1 = new Map<Socket | TLSSocket, number>()
  #sessions = new Set<http2.ServerHttp2Session>()
  #closing = false
  #idleWaiters: (() => void)[] = []

  constructor(settings: ListenerSettings, all: EdgeSettings, hooks: ListenerHooks) {
    this.settings = settings
    const lim = all.limits
    this.secure = settings.tls !== undefined
    this.#proxyFrom = all.trustedProxies
    const httpOpts = {
      maxHeaderSize: lim.maxHeaderSize,
      headersTimeout: lim.headersTimeout,
      requestTimeout: lim.requestTimeout,
      keepAliveTimeout: lim.keepAliveTimeout,
      connectionsCheckingInterval: Math.min(1000, lim.headersTimeout),
    }
    const onRequest = (req: EdgeRequest, res: EdgeResponse) => hooks.request(req, res, this)
    if (settings.tls) {
      this.#sni = buildSni(settings.tls, all.tlsDir, settings.key)
      const tlsOpts = {
        cert: this.#sni.defaultCert.cert,
        key: this.#sni.defaultCert.key,
        minVersion: 'TLSv1.2' as const,
        SNICallback: (name: string, cb: (err: Error | null, ctx?: import('node:tls').SecureContext) => void) => cb(null, this.#sni?.lookup(name)),
      }
      if (settings.http2) {
        const s = http2.createSecureServer({
          ...tlsOpts,
          ...httpOpts,
          allowHTTP1: true,
          settings: { maxHeaderListSize: lim.maxHeaderSize },
          maxSessionMemory: 32,
        } as http2.SecureServerOptions, onRequest)
        // The HTTP/1.1 fallback reads these from the server object, as node:http does.
        Object.assign(s, {
          maxHeaderSize: lim.maxHeaderSize,
          keepAliveTimeout: lim.keepAliveTimeout,
          headersTimeout: lim.headersTimeout,
          requestTimeout: lim.requestTimeout,
          connectionsCheckingInterval: httpOpts.connectionsCheckingInterval,
        })
        s.on('session', (session: http2.ServerHttp2Session) => {
          this.#sessions.add(session)
          session.once('close', () => { this.#sessions.delete(session); this.#checkIdle() })
          if (this.#closing) session.close()
        })
        this.server = s
      } else {
        this.server = https.createServer({ ...tlsOpts, ...httpOpts }, onRequest)
      }
      this.server.on('secureConnection', (sock: TLSSocket) => {
        // The TLS socket wraps the raw one the PROXY header was read from: carry its client over.
        const proxied = (sock as TLSSocket & { _parent?: ProxiedSocket })._parent?.[PROXIED_PEER]
        if (proxied !== undefined) (sock as ProxiedSocket)[PROXIED_PEER] = proxied
        if (sock.alpnProtocol === 'h2') return
        this.#trackH1(sock)
      })
      // A failed handshake is the client's problem, not ours: never let it surface as an error.
      this.server.on('tlsClientError', (_e: Error, sock: TLSSocket) => sock.destroy())
    } else {
      this.server = http.createServer(httpOpts, onRequest)
      this.server.on('connection', (sock: Socket) => this.#trackH1(sock))
    }
    ;(this.server as http.Server).setTimeout(lim.idleTimeout)
    // Expect: 100-continue goes through the stages first, so an oversized or refused upload is
    // answered before the client sends a byte of it.
    this.server.on('checkContinue', (req: EdgeRequest, res: EdgeResponse) => hooks.request(req, res, this, true))
    this.server.on('connection', (sock: Socket) => {
      if (hooks.connection && !hooks.connection(sock)) {
        sock.destroy()
        return
      }
      this.#raw.add(sock)
      sock.once('close', () => this.#raw.delete(sock))
      if (this.#closing) sock.destroy()
    })
    if (hooks.upgrade) {
      const up = hooks.upgrade
      this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => up(req, socket, head, this))
    } else {
      this.server.on('upgrade', (_req: http.IncomingMessage, socket: Socket) => socket.destroy())
    }
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) { socket.destroy(); return }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      const text = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\nConnection: close\r\n\r\n${text}\n`)
    })
    if (settings.proxyProtocol) {
      this.#acceptor = net.createServer({ noDelay: true }, (sock) => this.#readProxyHeader(sock, lim.headersTimeout))
      // node:http starts its headers/request timeout checks when its server emits 'listening';
      // this one never listens itself.
      this.#acceptor.on('listening', () => this.server.emit('listening'))
    } else {
      this.#acceptor = this.server
    }
  }

  #readProxyHeader(sock: Socket, timeoutMs: number): void {
    if (this.#closing) { sock.destroy(); return }
    this.#awaitingHeader.add(sock)
    sock.once('close', () => this.#awaitingHeader.delete(sock))
    readProxyHeader(sock, this.#proxyFrom, timeoutMs, {
      allowedKey: 'edge.trustedProxies',
      accept: (s) => {
        this.#awaitingHeader.delete(s)
        this.server.emit('connection', s)
        // A TLS server reads the raw socket's handle itself (and the unshifted ClientHello from
        // its buffer); resuming the raw socket would hand those bytes to nobody.
        // A connection the firewall refused is destroyed by now: its buffered request must not flow.
        if (!this.secure && !s.destroyed) s.resume()
      },
      refuse: (s, status, reason) => {
        this.#awaitingHeader.delete(s)
        // A TLS client cannot read a plain-text answer: just close.
        if (this.secure || !s.writable) { s.destroy(); return }
        rejectOnSocket(s, { status, reason })
      },
    })
  }

  #trackH1(sock: Socket | TLSSocket): void {
    this.#h1.set(sock, 0)
    sock.once('close', () => { this.#h1.delete(sock); this.#checkIdle() })
  }

  /** Called by the engine for every request; pairs with `requestFinished`. */
  requestStarted(req: EdgeRequest, res: EdgeResponse): void {
    if (req.httpVersionMajor === 2) return
    const sock = req.socket
    const n = this.#h1.get(sock)
    if (n !== undefined) this.#h1.set(sock, n + 1)
    // While closing, every HTTP/1.1 answer is the connection's last.
    if (this.#closing) res.setHeader('connection', 'close')
  }

  requestFinished(req: EdgeRequest): void {
    if (req.httpVersionMajor === 2) return
    const sock = req.socket
    const n = this.#h1.get(sock)
    if (n === undefined) return
    this.#h1.set(sock, n - 1)
    if (this.#closing && n - 1 === 0) {
      sock.end()
      this.#checkIdle()
    }
  }

  /** Replaces certificates (SIGHUP re-reads the files) without closing the socket. */
  updateTls(settings: ListenerSettings, all: EdgeSettings): void {
    this.settings = settings
    this.#proxyFrom = all.trustedProxies
    if (!settings.tls || !this.secure) return
    const sni = buildSni(settings.tls, all.tlsDir, settings.key)
    this.#sni = sni
    ;(this.server as https.Server).setSecureContext({ cert: sni.defaultCert.cert, key: sni.defaultCert.key, minVersion: 'TLSv1.2' })
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e)
      this.#acceptor.once('error', onError)
      this.#acceptor.listen({ host: this.settings.host, port: this.settings.port }, () => {
        this.#acceptor.off('error', onError)
        resolve()
      })
    })
  }

  get address(): ListenerAddress {
    const a = this.#acceptor.address() as AddressInfo
    const scheme = this.secure ? 'https' : 'http'
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
    return { host: a.address, port: a.port, scheme, http2: this.secure && this.settings.http2, url: `${scheme}://${host}:${a.port}` }
  }

  #busy(): boolean {
    if (this.#sessions.size > 0) return true
    for (const n of this.#h1.values()) if (n > 0) return true
    return false
  }

  #checkIdle(): void {
    if (!this.#closing || this.#busy()) return
    const w = this.#idleWaiters
    this.#idleWaiters = []
    for (const f of w) f()
  }

  /** Stops accepting, lets in-flight requests finish for up to `timeoutMs`, then cuts the rest. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    const closed = Promise.all([...new Set<net.Server>([this.server, this.#acceptor])].map((s) => new Promise<void>((r) => s.close(() => r()))))
    for (const s of this.#awaitingHeader) s.destroy()
    for (const [sock, n] of this.#h1) if (n === 0) sock.end()
    for (const s of this.#sessions) s.close()
    if (this.#busy()) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve)
        timer = setTimeout(resolve, timeoutMs)
      })
      clearTimeout(timer)
    }
    for (const s of this.#raw) s.destroy()
    for (const s of this.#sessions) s.destroy()
    await closed
  }
}
