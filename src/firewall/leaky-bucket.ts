// nginx limit_req arithmetic, kept in one place so the memory store and the Redis Lua script
// (which mirrors these lines) agree to the millisecond. Units follow ngx_http_limit_req_module:
// `excess` and `burst` are in thousandths of a request, `rate` in thousandths of a request per
// second, so integer maths loses nothing for whole r/s and r/m rates.

/** A compiled limit_req zone parameter set. */
export interface BucketParams {
  /** Thousandths of a request per second (10r/s → 10000, 30r/m → 500). */
  rate: number
  /** Allowed excess, thousandths of a request (burst=5 → 5000). */
  burst: number
  /** Excess served without delay, thousandths; Infinity for `nodelay`, 0 for plain delay. */
  delay: number
}

export interface BucketState {
  excess: number
  last: number
}

/**
 * The excess a request would bring, as nginx's ngx_http_limit_req_lookup computes it: the stored
 * excess drained by the elapsed time, plus one request. A first request starts at 0.
 * `ms` is the elapsed time nginx uses (clamped): an accepted request moves `last` to now unless
 * `ms` is 0 (nginx keeps it, so sub-millisecond drains are not lost); -1 for a first request.
 */
export function excessAfter(state: BucketState | undefined, rate: number, now: number): { excess: number; ms: number } {
  if (!state) return { excess: 0, ms: -1 }
  const ms = elapsedMs(state, now)
  return { excess: drainedPlusOne(state, rate, ms), ms }
}

/** excessAfter()'s clamped elapsed time for a known bucket, without an object (the memory store's hot path). */
export function elapsedMs(state: BucketState, now: number): number {
  const ms = now - state.last
  return ms < -60000 ? 1 : ms < 0 ? 0 : ms
}

/** excessAfter()'s excess for a known bucket after `ms` (from elapsedMs), without an object. */
export function drainedPlusOne(state: BucketState, rate: number, ms: number): number {
  const excess = state.excess - Math.floor((rate * ms) / 1000) + 1000
  return excess < 0 ? 0 : excess
}

/** How long nginx delays an accepted request: the excess above `delay`, drained at `rate`. */
export function delayFor(p: BucketParams, excess: number): number {
  if (excess <= p.delay) return 0
  return Math.floor(((excess - p.delay) * 1000) / p.rate)
}

/** Milliseconds until a rejected request would fit within the burst again. */
export function retryAfterMs(p: BucketParams, excess: number): number {
  return Math.max(1, Math.ceil(((excess - p.burst) * 1000) / p.rate))
}

/** How long a key must live so that no state is lost: time to drain a full burst plus one. */
export function bucketTtlMs(p: BucketParams): number {
  return Math.ceil(((p.burst + 1000) * 1000) / p.rate) + 1000
}

/** Parses nginx's `10r/s` / `30r/m` into thousandths of a request per second. */
export function parseRate(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*r\/(s|m)\s*$/.exec(text)
  if (!m) return undefined
  const n = Number(m[1])
  const rate = Math.floor((n * 1000) / (m[2] === 'm' ? 60 : 1))
  return rate > 0 ? rate : undefined
}
