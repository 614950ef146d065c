// Who the client is: the peer, or — only when the peer is a trusted proxy — the rightmost untrusted
// X-Forwarded-For address, the X-Forwarded-Proto scheme and the X-Request-Id. Headers from anyone
// else are ignored, so a client cannot spoof its address past the server.
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { clientAddressFrom, normalizeIp, type CidrSet } from '../net/ip.ts'
import { peerAddressOf } from '../net/proxy-accept.ts'
import type { ConnectionInfo } from '../contract.ts'

const PEER = Symbol('causeway.peer')
const PEER_TRUSTED = Symbol('causeway.peerTrusted')

type PeerSocket = Socket & { [PEER]?: string; [PEER_TRUSTED]?: boolean }

const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/

// Generated ids: a random per-process prefix and a counter — unique across workers and restarts,
// and far cheaper per request than a UUID.
const ID_PREFIX = randomBytes(8).toString('hex')
let idCounter = 0

/** A fresh request id, e.g. `9f1c2a7b3e4d5f60-1a`. */
export function newRequestId(): string {
  return `${ID_PREFIX}-${(++idCounter).toString(36)}`
}

/**
 * Builds the ConnectionInfo for one request. The peer is parsed and checked once per connection.
 * @example connectionInfo(req, new CidrSet(['127.0.0.1']), false)
 *   // { clientAddress: '203.0.113.7', scheme: 'https', requestId: '…' }
 */
export function connectionInfo(req: IncomingMessage, trusted: CidrSet, tls: boolean): ConnectionInfo {
  const socket = req.socket as PeerSocket
  let peer = socket[PEER]
  let isTrusted = socket[PEER_TRUSTED]
  if (peer === undefined) {
    const raw = peerAddressOf(socket) ?? ''
    // Unix-socket peers have no address: the only thing on the other end is a local proxy.
    peer = raw === '' ? '127.0.0.1' : normalizeIp(raw) ?? raw
    isTrusted = trusted.size > 0 && trusted.has(peer)
    socket[PEER] = peer
    socket[PEER_TRUSTED] = isTrusted
  }
  if (!isTrusted) return { clientAddress: peer, scheme: tls ? 'https' : 'http', requestId: newRequestId() }
  const h = req.headers
  let scheme: 'http' | 'https' = tls ? 'https' : 'http'
  const rawProto = h['x-forwarded-proto']
  if (rawProto !== undefined) {
    const proto = Array.isArray(rawProto) ? rawProto.join(',') : rawProto
    // A chain of proxies appends; the nearest proxy's value is the last one.
    const last = proto.slice(proto.lastIndexOf(',') + 1).trim().toLowerCase()
    if (last === 'https' || last === 'http') scheme = last
  }
  const id = h['x-request-id']
  const xff = h['x-forwarded-for']
  return {
    clientAddress: xff === undefined ? peer : clientAddressFrom(peer, xff, trusted),
    scheme,
    requestId: typeof id === 'string' && REQUEST_ID.test(id) ? id : newRequestId(),
  }
}

/** Whether the request's peer is a trusted proxy (forwardedAllowIps); valid after connectionInfo(). */
export function isTrustedPeer(req: IncomingMessage): boolean {
  return (req.socket as PeerSocket)[PEER_TRUSTED] === true
}
