// IP addresses, CIDR sets and the trusted-proxy rule, shared by the app server, the firewall and
// the edge: a neutral module so that the three agree on who the client is.
import { isIP } from 'node:net'

export interface ParsedIp {
  version: 4 | 6
  /** 4 or 16 bytes, network order. IPv4-mapped IPv6 (::ffff:a.b.c.d) parses as IPv4. */
  bytes: Uint8Array
}

function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.')
  if (parts.length !== 4) return null
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!
    if (!/^\d{1,3}$/.test(p)) return null
    const n = Number(p)
    if (n > 255) return null
    out[i] = n
  }
  return out
}

function parseV6(s: string): Uint8Array | null {
  if (isIP(s) !== 6) return null
  let head = s
  let tail4: Uint8Array | null = null
  const lastColon = s.lastIndexOf(':')
  if (s.indexOf('.', lastColon) !== -1) {
    tail4 = parseV4(s.slice(lastColon + 1))
    if (!tail4) return null
    head = s.slice(0, lastColon + 1) + '0:0'
  }
  const [left, right] = head.split('::') as [string, string | undefined]
  const l = left ? left.split(':') : []
  const r = right !== undefined && right !== '' ? right.split(':') : []
  const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r]
  if (groups.length !== 8) return null
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    const n = parseInt(g, 16)
    out[i * 2] = n >> 8
    out[i * 2 + 1] = n & 0xff
  })
  if (tail4) out.set(tail4, 12)
  return out
}

/** Parses an IPv4 or IPv6 address (zone ids and brackets stripped); null when it is not one. */
export function parseIp(input: string): ParsedIp | null {
  let s = input.trim()
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  const zone = s.indexOf('%')
  if (zone !== -1) s = s.slice(0, zone)
  const v4 = parseV4(s)
  if (v4) return { version: 4, bytes: v4 }
  const v6 = parseV6(s)
  if (!v6) return null
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff
  return mapped ? { version: 4, bytes: v6.slice(12) } : { version: 6, bytes: v6 }
}

/** The canonical text of an address: IPv4 dotted, IPv6 lower-case and compressed. */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) return ip.bytes.join('.')
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!)
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

/**
 * True when `s` is already a canonical dotted IPv4 address (four parts of 1-3 digits, each at most
 * 255, no leading zeros): the usual X-Forwarded-For entry, recognised in one pass over its
 * characters instead of a split, four regex tests and a join.
 */
function isCanonicalV4(s: string): boolean {
  const n = s.length
  if (n < 7 || n > 15) return false
  let dots = 0
  let digits = 0
  let value = 0
  let first = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return false
      digits = 0
      value = 0
      continue
    }
    if (c < 48 || c > 57) return false
    if (digits === 0) first = c
    else if (first === 48) return false // a leading zero: the parser's canonical form drops it
    if (++digits > 3) return false
    value = value * 10 + (c - 48)
    if (value > 255) return false
  }
  return dots === 3 && digits > 0
}

/** Canonical form of an address string, or undefined when it is not an address. */
export function normalizeIp(input: string): string | undefined {
  if (isCanonicalV4(input)) return input
  const ip = parseIp(input)
  return ip ? formatIp(ip) : undefined
}

export interface Cidr extends ParsedIp {
  prefix: number
}

/** Parses `10.0.0.0/8`, `::1/128` or a bare address (a full-length prefix). Throws on bad input. */
export function parseCidr(input: string): Cidr {
  const [addr, len] = input.trim().split('/') as [string, string | undefined]
  const ip = parseIp(addr)
  if (!ip) throw new Error(`not an IP address or CIDR range: ${JSON.stringify(input)}`)
  const max = ip.version === 4 ? 32 : 128
  // An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) becomes its IPv4 range.
  let prefix = len === undefined ? max : Number(len)
  if (len !== undefined && !/^\d{1,3}$/.test(len)) throw new Error(`bad prefix length in ${JSON.stringify(input)}`)
  if (ip.version === 4 && addr.includes(':') && len !== undefined) prefix -= 96
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`prefix length out of range in ${JSON.stringify(input)}`)
  return { ...ip, prefix }
}

function matches(c: Cidr, ip: ParsedIp): boolean {
  if (c.version !== ip.version) return false
  let bits = c.prefix
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((c.bytes[i]! & mask) !== (ip.bytes[i]! & mask)) return false
  }
  return true
}

/**
 * A set of CIDR ranges with a small cache of answers, since the same peers (the proxies in
 * front) ask again and again.
 * @example new CidrSet(['127.0.0.1', '10.0.0.0/8', '::1']).has('10.1.2.3') // true
 */
export class CidrSet {
  readonly ranges: readonly Cidr[]
  #cache = new Map<string, boolean>()

  constructor(list: Iterable<string>) {
    const ranges: Cidr[] = []
    for (const entry of list) {
      if (entry === '*') ranges.push(parseCidr('0.0.0.0/0'), parseCidr('::/0'))
      else ranges.push(parseCidr(entry))
    }
    this.ranges = ranges
  }

  get size(): number {
    return this.ranges.length
  }

  has(address: string): boolean {
    const hit = this.#cache.get(address)
    if (hit !== undefined) return hit
    const ip = parseIp(address)
    const answer = ip !== null && this.ranges.some((c) => matches(c, ip))
    if (this.#cache.size >= 4096) this.#cache.clear()
    this.#cache.set(address, answer)
    return answer
  }
}

/**
 * The client address behind trusted proxies: the peer itself unless it is trusted; otherwise the
 * rightmost address in X-Forwarded-For that is not a trusted proxy (the leftmost when all are).
 * Entries that are not addresses stop the walk: what lies left of them cannot be trusted.
 */
export function clientAddressFrom(peer: string, forwardedFor: string | string[] | undefined, trusted: CidrSet): string {
  const peerIp = normalizeIp(peer) ?? peer
  if (forwardedFor === undefined || trusted.size === 0 || !trusted.has(peerIp)) return peerIp
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',')
  let client = peerIp
  for (let i = chain.length - 1; i >= 0; i--) {
    const candidate = normalizeIp(chain[i]!.trim())
    if (!candidate) return client
    client = candidate
    if (!trusted.has(candidate)) return candidate
  }
  return client
}

/** The key a limit or ban applies to: the IPv4 address, or the IPv6 network of `v6Prefix` bits. */
export function clientGroupKey(address: string, v6Prefix = 64): string {
  const ip = parseIp(address)
  if (!ip) return address
  if (ip.version === 4) return formatIp(ip)
  const bytes = new Uint8Array(16)
  for (let bit = 0; bit < v6Prefix; bit += 8) {
    const keep = v6Prefix - bit >= 8 ? 0xff : (0xff << (8 - (v6Prefix - bit))) & 0xff
    bytes[bit / 8] = ip.bytes[bit / 8]! & keep
  }
  return `${formatIp({ version: 6, bytes })}/${v6Prefix}`
}
