// How to reach one upstream: a keep-alive pool for requests — the edge's own HTTP/1.1 client
// (h1-pool.ts) for http and unix-socket upstreams, undici for https ones or when asked — and raw
// sockets for upgrades. Addresses: `http://host:port`, `https://host:port`, `unix:/path/to.sock`
// (bare `host:port` = http).
import net from 'node:net'
import tls from 'node:tls'
import { Pool, type Dispatcher } from 'undici'
import { ConfigError } from '../../errors.ts'
import { H1Pool } from './h1-pool.ts'
import type { UpstreamHandler, UpstreamRequest } from './h1-exchange.ts'

/** Which HTTP client carries requests to http and unix upstreams (https ones always use undici). */
export type UpstreamClient = 'causeway' | 'undici'

export interface TransportOptions {
  /** Maximum connections kept to this upstream (undici `connections`). */
  connections?: number
  /** How long an idle keep-alive connection stays open (ms). */
  idleTimeout?: number
  /** TCP/TLS connect timeout (ms). */
  connectTimeout?: number
  /** Verify the upstream's certificate for https upstreams. */
  rejectUnauthorized?: boolean
  /** The client for http and unix upstreams (default `causeway`). */
  client?: UpstreamClient
}

export interface ParsedAddress {
  kind: 'tcp' | 'unix'
  tls: boolean
  host: string
  port: number
  socketPath: string
  /** The origin undici dials (`http://localhost` for unix sockets). */
  origin: string
}

/** Parses an upstream address; throws a ConfigError-free Error (callers add the key). */
export function parseAddress(address: string): ParsedAddress {
  if (address.startsWith('unix:')) {
    const socketPath = address.slice(5)
    if (!socketPath.startsWith('/')) throw new Error('a unix socket address must be absolute: unix:/path/to.sock')
    return { kind: 'unix', tls: false, host: 'localhost', port: 0, socketPath, origin: 'http://localhost' }
  }
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `http://${address}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new Error(`not an address: ${JSON.stringify(address)} (use http://host:port or unix:/path)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme ${url.protocol} (use http, https or unix)`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new Error(`an upstream address is only scheme://host:port, got ${JSON.stringify(address)}`)
  }
  const isTls = url.protocol === 'https:'
  const port = url.port ? Number(url.port) : isTls ? 443 : 80
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return { kind: 'tcp', tls: isTls, host, port, socketPath: '', origin: `${url.protocol}//${url.host}` }
}

export interface Transport {
  readonly parsed: ParsedAddress
  /** Which client carries requests (`undici` for https upstreams). */
  readonly client: UpstreamClient
  /** Sends one request; its outcome arrives through `handler` (callbacks shaped like undici's). */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void
  /** The Host value when the original one is not preserved. */
  readonly hostHeader: string
  /** A raw socket to the upstream (for Upgrade); resolves once connected. */
  connectRaw(timeoutMs: number): Promise<net.Socket>
  close(): Promise<void>
  destroy(): Promise<void>
}

export function createTransport(address: string, opts: TransportOptions = {}): Transport {
  let parsed: ParsedAddress
  try {
    parsed = parseAddress(address)
  } catch (e) {
    throw new ConfigError('upstream', (e as Error).message)
  }
  const connectTimeout = opts.connectTimeout ?? 5_000
  const client: UpstreamClient = parsed.tls ? 'undici' : opts.client ?? 'causeway'
  const pool = client === 'causeway'
    ? new H1Pool({
      connect: parsed.kind === 'unix' ? { path: parsed.socketPath } : { host: parsed.host, port: parsed.port },
      connections: opts.connections ?? 64,
      idleTimeout: opts.idleTimeout ?? 60_000,
      connectTimeout,
    })
    : undiciPool(parsed, opts, connectTimeout)
  const hostHeader = parsed.kind === 'unix' ? 'localhost' : new URL(parsed.origin).host

  function connectRaw(timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const sock: net.Socket = parsed.kind === 'unix'
        ? net.connect({ path: parsed.socketPath })
        : parsed.tls
          ? tls.connect({ host: parsed.host, port: parsed.port, servername: net.isIP(parsed.host) ? undefined : parsed.host, rejectUnauthorized: opts.rejectUnauthorized ?? true })
          : net.connect({ host: parsed.host, port: parsed.port })
      const timer = setTimeout(() => {
        const err = Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })
        sock.destroy(err)
      }, timeoutMs)
      const onError = (err: Error) => { clearTimeout(timer); reject(err) }
      sock.once('error', onError)
      sock.once(parsed.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        sock.off('error', onError)
        resolve(sock)
      })
    })
  }

  return {
    parsed,
    client,
    hostHeader,
    dispatch: (request, handler) => { pool.dispatch(request, handler) },
    connectRaw,
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  }
}

/** undici's Pool, for https upstreams (its dispatch handlers have the same callbacks). */
function undiciPool(parsed: ParsedAddress, opts: TransportOptions, connectTimeout: number) {
  const pool = new Pool(parsed.origin, {
    connections: opts.connections ?? 64,
    keepAliveTimeout: opts.idleTimeout ?? 60_000,
    keepAliveMaxTimeout: Math.max(opts.idleTimeout ?? 60_000, 1_000),
    pipelining: 1,
    socketPath: parsed.kind === 'unix' ? parsed.socketPath : undefined,
    connect: { timeout: connectTimeout, rejectUnauthorized: opts.rejectUnauthorized ?? true },
    // Per-request timeouts are passed on each dispatch; these are only fallbacks.
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  })
  return {
    dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
      try {
        pool.dispatch({
          method: request.method as Dispatcher.HttpMethod,
          path: request.path,
          headers: request.headers,
          body: request.body,
          headersTimeout: request.headersTimeout,
          bodyTimeout: request.bodyTimeout,
          // undici's own notion; it only affects pipelining, which is off.
          idempotent: false,
        }, handler as Dispatcher.DispatchHandler)
      } catch (err) {
        handler.onResponseError?.(undefined, err as Error)
      }
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  }
}
