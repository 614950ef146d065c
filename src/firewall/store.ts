// The store behind the firewall: one call per request does the ban check, the limit_req update
// of every zone that applies and the violation count, atomically. Memory (one process) and Redis
// (many processes, one Lua script) implement it; test/firewall/store-suite.ts runs both.
import type { BucketParams } from './leaky-bucket.ts'

/** One fail2ban jail: `maxRetry` strikes within `findTime` ms ban the client. */
export interface Jail {
  name: string
  maxRetry: number
  findTime: number
}

/** How long bans last: banTime × factor^n for the n-th earlier ban within `forgetAfter`, capped. */
export interface BanPolicy {
  banTime: number
  factor: number
  maxBanTime: number
  /** How long a client's ban count is remembered after its last ban. */
  forgetAfter: number
}

export interface ZoneHit extends BucketParams {
  /** Zone name plus the key value, unique per bucket (`api:10.0.0.1`). */
  key: string
  /** Key lifetime in ms (leaky-bucket.ts bucketTtlMs). */
  ttl: number
}

export interface HitInput {
  /** The client group (clientGroupKey) bans and strikes apply to. */
  group: string
  /** Buckets to check and, when all have room, to charge (nginx: all or nothing). */
  zones: readonly ZoneHit[]
  /** The jail a limit rejection strikes into (none: rejections do not count towards bans). */
  limitJail?: Jail
  /** Strike into this jail instead of touching the zones (a scanner probe). */
  strike?: Jail
}

export interface HitResult {
  /** > 0: the client is banned for this many more ms (freshly when `freshBan`). */
  bannedMs: number
  freshBan: boolean
  /** Index in `zones` of the zone that rejected, or -1. */
  limited: number
  /** When limited: ms until a request would fit again. */
  retryMs: number
  /** When accepted: how long to delay, and which zone asked for the longest delay. */
  delayMs: number
  delayZone: number
  /** The store's clock (epoch ms) when it decided: Redis's TIME (set by the Redis store only). */
  at?: number
}

export interface BanInfo {
  group: string
  /** Epoch ms when the ban ends. */
  until: number
  /** The jail (or 'manual') that imposed it. */
  reason: string
}

/** Receives a decision's result (hitWith()). */
export type HitCallback = (r: HitResult) => void

export interface FirewallStore {
  readonly kind: 'memory' | 'redis'
  hit(input: HitInput): HitResult | Promise<HitResult>
  /**
   * hit() without a promise: returns the result when the store has it at once, else undefined and
   * calls `done` with it later (never before returning). The firewall's per-request path uses it
   * when present: a promise, a then() and a microtask per decision are a large part of what a
   * shared-store decision costs the edge.
   */
  hitWith?(input: HitInput, done: HitCallback): HitResult | undefined
  /** Records a strike (observe(): 401/403/404 bursts, app-reported login failures). */
  strikeOnly(group: string, jail: Jail): HitResult | Promise<HitResult>
  ban(group: string, ms: number, reason?: string): Promise<void>
  unban(group: string): Promise<boolean>
  bans(): Promise<BanInfo[]>
  close(): Promise<void>
}

// Zone lists the firewall reuses for every request of an address (firewall.ts zonesFor): a store
// may remember what it derives from such a list by the list's identity. They are marked here, not
// frozen: V8's optimized code reads a frozen array's elements through an inline-cache call (~70
// instructions each), not inline, and the memory store reads them on every request.
const reusedZoneLists = new WeakSet<HitInput['zones']>()

/** Marks `zones` as a list that is never changed and comes back for many requests. */
export function markReused(zones: HitInput['zones']): HitInput['zones'] {
  reusedZoneLists.add(zones)
  return zones
}

/** Whether `zones` was marked by markReused(). */
export function isReused(zones: HitInput['zones']): boolean {
  return reusedZoneLists.has(zones)
}

/** The zones of a hit that only strikes (a probe) or has no limits to apply. */
export const NO_ZONES: HitInput['zones'] = Object.freeze([])

export const OK: HitResult = Object.freeze({ bannedMs: 0, freshBan: false, limited: -1, retryMs: 0, delayMs: 0, delayZone: -1 })

/** The duration of the n-th ban (n counts from 1). */
export function banDuration(p: BanPolicy, n: number): number {
  return Math.min(Math.floor(p.banTime * p.factor ** (n - 1)), p.maxBanTime)
}
