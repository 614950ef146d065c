// The in-process store: the same algorithm as the Redis script, on Maps. It is also the local
// limiter the Redis store falls back on while Redis is unreachable.
import { delayFor, drainedPlusOne, elapsedMs, retryAfterMs, type BucketState } from './leaky-bucket.ts'
import { loopNow } from './clock.ts'
import { OK, banDuration, type BanInfo, type BanPolicy, type FirewallStore, type HitInput, type HitResult, type Jail, type ZoneHit } from './store.ts'

interface Bucket extends BucketState {
  expires: number
}

interface Expiring<T> {
  value: T
  expires: number
}

export interface MemoryStoreOptions {
  policy: BanPolicy
  /** Clock in ms (tests inject one); default: Date.now() once per event-loop turn (clock.ts). */
  now?: () => number
  /** Sweep expired entries this often (ms). */
  sweepInterval?: number
}

/**
 * @example const store = new MemoryStore({ policy: { banTime: 600_000, factor: 2, maxBanTime: 86_400_000, forgetAfter: 86_400_000 } })
 */
export class MemoryStore implements FirewallStore {
  readonly kind = 'memory' as const
  #policy: BanPolicy
  #now: () => number
  #buckets = new Map<string, Bucket>()
  // Scratch space for hit(), reused across calls (hit() is synchronous).
  #excess: number[] = []
  #elapsed: number[] = []
  #states: (Bucket | undefined)[] = []
  #bans = new Map<string, Expiring<string>>()
  #banCounts = new Map<string, Expiring<number>>()
  #strikes = new Map<string, Expiring<number[]>>()
  #timer: NodeJS.Timeout

  constructor(opts: MemoryStoreOptions) {
    this.#policy = opts.policy
    this.#now = opts.now ?? loopNow
    this.#timer = setInterval(() => this.sweep(), opts.sweepInterval ?? 10_000)
    this.#timer.unref()
  }

  hit(input: HitInput): HitResult {
    const now = this.#now()
    const banned = this.#banned(input.group, now)
    if (banned) return banned
    if (input.strike) return this.#strike(input.group, input.strike, now)
    const { zones } = input
    const n = zones.length
    if (n === 0) return OK
    if (n === 1) return this.#hitOne(input, zones[0]!, now)
    // Check every zone before charging any: a rejected request leaves all buckets untouched.
    const excess = this.#excess
    const elapsed = this.#elapsed
    const states = this.#states
    for (let i = 0; i < n; i++) {
      const z = zones[i]!
      const entry = this.#buckets.get(z.key)
      const state = entry !== undefined && entry.expires > now ? entry : undefined
      // excessAfter() (leaky-bucket.ts) in its parts, so that the hot path allocates nothing.
      const ms = state !== undefined ? elapsedMs(state, now) : -1
      const e = state !== undefined ? drainedPlusOne(state, z.rate, ms) : 0
      if (e > z.burst) return this.#limited(input, z, i, e, now)
      states[i] = entry
      excess[i] = e
      elapsed[i] = ms
    }
    let delayMs = 0
    let delayZone = -1
    for (let i = 0; i < n; i++) {
      const z = zones[i]!
      const e = excess[i]!
      const entry = states[i]
      // Update in place: the hot path allocates nothing for a known client.
      if (entry !== undefined && entry.expires > now) {
        if (elapsed[i] !== 0) entry.last = now
        entry.excess = e
        entry.expires = now + z.ttl
      } else {
        this.#buckets.set(z.key, { excess: e, last: now, expires: now + z.ttl })
      }
      states[i] = undefined
      const d = delayFor(z, e)
      if (d > delayMs) { delayMs = d; delayZone = i }
    }
    return delayMs > 0 ? { ...OK, delayMs, delayZone } : OK
  }

  // hit() for a single zone (the usual case): checked and charged in one pass, without the
  // scratch arrays.
  #hitOne(input: HitInput, z: ZoneHit, now: number): HitResult {
    const entry = this.#buckets.get(z.key)
    if (entry !== undefined && entry.expires > now) {
      const ms = elapsedMs(entry, now)
      const e = drainedPlusOne(entry, z.rate, ms)
      if (e > z.burst) return this.#limited(input, z, 0, e, now)
      if (ms !== 0) entry.last = now
      entry.excess = e
      entry.expires = now + z.ttl
      const d = delayFor(z, e)
      return d > 0 ? { ...OK, delayMs: d, delayZone: 0 } : OK
    }
    // A first request (excess 0).
    if (0 > z.burst) return this.#limited(input, z, 0, 0, now)
    this.#buckets.set(z.key, { excess: 0, last: now, expires: now + z.ttl })
    const d = delayFor(z, 0)
    return d > 0 ? { ...OK, delayMs: d, delayZone: 0 } : OK
  }

  /** Zone `i` has no room for the request (excess `e`): the rejection, with a strike into the limit jail. */
  #limited(input: HitInput, z: ZoneHit, i: number, e: number, now: number): HitResult {
    const retryMs = retryAfterMs(z, e)
    if (input.limitJail) {
      const s = this.#strike(input.group, input.limitJail, now)
      if (s.bannedMs > 0) return { ...s, limited: i, retryMs }
    }
    return { bannedMs: 0, freshBan: false, limited: i, retryMs, delayMs: 0, delayZone: -1 }
  }

  strikeOnly(group: string, jail: Jail): HitResult {
    const now = this.#now()
    return this.#banned(group, now) ?? this.#strike(group, jail, now)
  }

  #banned(group: string, now: number): HitResult | undefined {
    // Nearly always nobody is banned: no lookup then.
    if (this.#bans.size === 0) return undefined
    const ban = this.#bans.get(group)
    if (!ban) return undefined
    if (ban.expires <= now) { this.#bans.delete(group); return undefined }
    return { ...OK, bannedMs: ban.expires - now }
  }

  // fail2ban's rule: keep the last maxRetry strike times; when the oldest of them lies within
  // findTime, the client has struck maxRetry times inside the window.
  #strike(group: string, jail: Jail, now: number): HitResult {
    if (jail.maxRetry <= 0) return OK
    const key = `${jail.name}:${group}`
    const entry = this.#strikes.get(key)
    const times = entry && entry.expires > now ? entry.value : []
    times.unshift(now)
    if (times.length > jail.maxRetry) times.length = jail.maxRetry
    if (times.length >= jail.maxRetry && now - times[jail.maxRetry - 1]! <= jail.findTime) {
      this.#strikes.delete(key)
      const ms = this.#impose(group, jail.name, now)
      return { ...OK, bannedMs: ms, freshBan: true }
    }
    this.#strikes.set(key, { value: times, expires: now + jail.findTime })
    return OK
  }

  #impose(group: string, reason: string, now: number, fixedMs?: number): number {
    const prev = this.#banCounts.get(group)
    const n = (prev && prev.expires > now ? prev.value : 0) + 1
    const ms = fixedMs ?? banDuration(this.#policy, n)
    this.#banCounts.set(group, { value: n, expires: now + Math.max(this.#policy.forgetAfter, ms) })
    this.#bans.set(group, { value: reason, expires: now + ms })
    return ms
  }

  async ban(group: string, ms: number, reason = 'manual'): Promise<void> {
    this.#impose(group, reason, this.#now(), ms)
  }

  async unban(group: string): Promise<boolean> {
    const now = this.#now()
    const had = this.#banned(group, now) !== undefined
    this.#bans.delete(group)
    return had
  }

  async bans(): Promise<BanInfo[]> {
    const now = this.#now()
    const out: BanInfo[] = []
    for (const [group, b] of this.#bans) if (b.expires > now) out.push({ group, until: b.expires, reason: b.value })
    return out
  }

  /** Drops expired entries (runs on a timer; public for tests). */
  sweep(): void {
    const now = this.#now()
    for (const map of [this.#buckets, this.#bans, this.#banCounts, this.#strikes] as Map<string, { expires: number }>[]) {
      for (const [k, v] of map) if (v.expires <= now) map.delete(k)
    }
  }

  /** Number of live buckets (for tests and status). */
  get size(): number {
    return this.#buckets.size
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
  }
}
