// Stage "identify client": builds the EdgeContext from the request. The client address comes
// from X-Forwarded-For only when the peer is a trusted proxy (src/net/ip.ts); so does an
// incoming X-Request-Id. Returns a reason string instead when the request is unusable (bad Host).
import { randomUUID } from 'node:crypto'
import { clientAddressFrom, normalizeIp, type CidrSet } from '../../net/ip.ts'
import { peerAddressOf } from '../../net/proxy-accept.ts'
import type { EdgeContext, EdgeRequest, EdgeResponse } from '../context.ts'

export interface IdentifyOptions {
  trustedProxies: CidrSet
  scheme: 'http' | 'https'
  /** Host to assume when the request names none (HTTP/1.0). */
  fallbackHost: string
  /** The listener reads PROXY headers: the peer is the header's source address. */
  proxyProtocol?: boolean
}

// A DNS name, IPv4, or bracketed IPv6, with an optional port; nothing that could smuggle a path.
const HOST = /^(?:[a-z0-9_](?:[a-z0-9_.-]*)|\[[0-9a-f:.]+\])(?::\d{1,5})?$/
const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/

// Peers repeat (keep-alive, the proxies in front): remember their canonical form.
const peers = new Map<string, string>()
export function canonicalPeer(raw: string): string {
  let p = peers.get(raw)
  if (p === undefined) {
    p = normalizeIp(raw) ?? raw
    if (peers.size >= 4096) peers.clear()
    peers.set(raw, p)
  }
  return p
}

// Clients repeat their Host header: remember what each distinct value parsed to (bounded).
const hosts = new Map<string, string | null>()
function cachedHostOf(raw: string): string | null {
  let h = hosts.get(raw)
  if (h === undefined) {
    h = hostOf(raw)
    if (hosts.size >= 1024) hosts.clear()
    hosts.set(raw, h)
  }
  return h
}

function hostOf(raw: string): string | null {
  const h = raw.toLowerCase()
  if (!HOST.test(h)) return null
  if (h.charCodeAt(0) === 91 /* [ */) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  const name = colon === -1 ? h : h.slice(0, colon)
  return name.endsWith('.') ? name.slice(0, -1) : name
}

/**
 * @example const ctx = identify(req, res, { trustedProxies, scheme: 'https', fallbackHost: 'localhost' })
 */
export function identify(req: EdgeRequest, res: EdgeResponse, o: IdentifyOptions): EdgeContext | string {
  const sock = req.socket
  const peer = canonicalPeer((o.proxyProtocol === true && sock ? peerAddressOf(sock) : sock?.remoteAddress) ?? '')
  const headers = req.headers
  const xff = headers['x-forwarded-for']
  const trusted = o.trustedProxies.size > 0 && o.trustedProxies.has(peer)
  const clientAddress = xff === undefined || !trusted ? peer : clientAddressFrom(peer, xff, o.trustedProxies)

  const rawHost = (headers[':authority'] as string | undefined) ?? headers.host
  let host = o.fallbackHost
  if (rawHost !== undefined) {
    const h = cachedHostOf(rawHost)
    if (h === null) return 'bad Host header'
    host = h
  }

  let url = req.url ?? '/'
  if (url.charCodeAt(0) !== 47 /* / */) {
    if (url === '*') url = '*'
    else if (/^https?:\/\//i.test(url)) {
      // Absolute-form request target (RFC 9112 §3.2.2): its authority replaces Host.
      const slash = url.indexOf('/', url.indexOf('//') + 2)
      const h = hostOf(url.slice(url.indexOf('//') + 2, slash === -1 ? undefined : slash))
      if (h === null) return 'bad request target'
      host = h
      url = slash === -1 ? '/' : url.slice(slash)
    } else return 'bad request target'
  }
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const search = q === -1 ? '' : url.slice(q)

  const incoming = headers['x-request-id']
  const requestId = trusted && typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()

  return {
    req,
    res,
    clientAddress,
    peerAddress: peer,
    scheme: o.scheme,
    host,
    path,
    search,
    requestId,
    startedAt: process.hrtime.bigint(),
    notes: {},
    trace: undefined,
  }
}
