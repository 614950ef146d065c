// Reads a PROXY protocol header off a fresh connection, before anything else reads it. Only
// `allowed` peers may send one (and must); anyone else sending one is refused, since believing it
// would let any client choose its own address. Shared by the app server and the edge, which each
// hand the socket on to their own HTTP (or TLS) server and answer refusals their own way.
import type { Socket } from 'node:net'
import { mayBeProxyHeader, parseProxyHeader } from './proxy-protocol.ts'
import type { CidrSet } from './ip.ts'

/** Set on a socket once a PROXY header named the original client, which replaces the peer. */
export const PROXIED_PEER = Symbol('causeway.proxiedPeer')

export type ProxiedSocket = Socket & { [PROXIED_PEER]?: string }

/**
 * The connection's client address: the PROXY header's source when one was read, else the peer.
 * Works on the raw socket, a TLS socket given the mark, and an HTTP/2 request's socket proxy.
 */
export function peerAddressOf(sock: Socket): string | undefined {
  return (sock as ProxiedSocket)[PROXIED_PEER] ?? sock.remoteAddress
}

/** A v2 header with TLVs can be long; more than this is not a header we will wait for. */
const MAX_HEADER = 4096

export interface ProxyHeaderHandlers {
  /** The setting that lists `allowed`, for the refusal reason (`proxyAllowIps`). */
  allowedKey: string
  /**
   * The header was read (or, from a peer that may not send one, was rightly absent): the socket is
   * paused with the bytes that followed the header unshifted, and `PROXIED_PEER` set when the
   * header named a source address (`LOCAL`/`UNKNOWN` keep the real peer).
   */
  accept(sock: Socket): void
  /** No valid header in time (408) or a bad or forbidden one (400); the reader has stopped. */
  refuse(sock: Socket, status: 400 | 408, reason: string): void
}

/**
 * @example readProxyHeader(sock, new CidrSet(['10.0.0.0/8']), 20_000, { allowedKey: 'proxyAllowIps', accept: (s) => { server.emit('connection', s); s.resume() }, refuse })
 */
export function readProxyHeader(sock: Socket, allowed: CidrSet, timeoutMs: number, on: ProxyHeaderHandlers): void {
  const peer = sock.remoteAddress
  // Unix-socket peers have no address; only a local proxy can be there.
  const mustSend = peer === undefined || allowed.has(peer)
  let buf: Buffer = Buffer.alloc(0)
  const timer = setTimeout(() => refuse('PROXY protocol header not received in time', 408), timeoutMs)
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    if (!mustSend) {
      if (!mayBeProxyHeader(buf)) return handOver(buf)
      if (buf.length >= 12) return refuse(`PROXY protocol header from a peer not in ${on.allowedKey}`)
      return
    }
    let parsed
    try {
      parsed = parseProxyHeader(buf)
    } catch (e) {
      return refuse((e as Error).message)
    }
    if (!parsed) {
      if (buf.length > MAX_HEADER) refuse('PROXY protocol header too long')
      return
    }
    const h = parsed.header
    if (h.command === 'PROXY' && h.sourceAddress) (sock as ProxiedSocket)[PROXIED_PEER] = h.sourceAddress
    handOver(buf.subarray(parsed.length))
  }
  const cleanup = (): void => {
    clearTimeout(timer)
    sock.off('data', onData)
    sock.off('error', onError)
  }
  const onError = (): void => {
    cleanup()
    sock.destroy()
  }
  function refuse(reason: string, status: 400 | 408 = 400): void {
    cleanup()
    on.refuse(sock, status, reason)
  }
  function handOver(rest: Buffer): void {
    cleanup()
    sock.pause()
    if (rest.length > 0) sock.unshift(rest)
    on.accept(sock)
  }
  sock.on('data', onData)
  sock.on('error', onError)
}
