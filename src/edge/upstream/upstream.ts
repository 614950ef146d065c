// One upstream server and its state. Health checkers (passive, active) and the pool's reload
// change this state; balancing policies only read it through `available()` and `effectiveWeight()`.
import { createTransport, type Transport, type TransportOptions } from './transport.ts'

export interface UpstreamOptions {
  /** `http://host:port`, `https://host:port` or `unix:/path/to.sock`. */
  address: string
  weight?: number
  /** Failures within `failTimeout` that mark the upstream down (0 = never, nginx `max_fails`). */
  maxFails?: number
  /** The failure window, and how long the upstream then stays down (ms, nginx `fail_timeout`). */
  failTimeout?: number
  /** After recovering, the weight ramps from ~0 to `weight` over this many ms (0 = off). */
  slowStart?: number
  transport?: TransportOptions
}

/** The clock is injectable so health and slow-start tests need no sleeps. */
export type Clock = () => number

export class Upstream {
  readonly address: string
  transport: Transport
  #transportOptions: TransportOptions
  weight: number
  maxFails: number
  failTimeout: number
  slowStart: number
  /** Requests (and upgraded sockets) currently using this upstream. */
  inFlight = 0
  /** Set when a reload removed the upstream: no new requests, in-flight ones finish. */
  draining = false
  /** Set by the active health checker; passive health uses `downUntil`. */
  activeHealthy = true
  /** Passive health: down until this time (ms). */
  downUntil = 0
  /** When the upstream last came back (for slow start); 0 = never down. */
  recoveredAt = 0
  #failures: number[] = []
  #clock: Clock
  #drained: (() => void) | undefined
  #draining: Promise<void> | undefined

  constructor(opts: UpstreamOptions, clock: Clock = Date.now) {
    this.address = opts.address
    this.weight = opts.weight ?? 1
    this.maxFails = opts.maxFails ?? 1
    this.failTimeout = opts.failTimeout ?? 10_000
    this.slowStart = opts.slowStart ?? 0
    this.#clock = clock
    this.#transportOptions = opts.transport ?? {}
    this.transport = createTransport(opts.address, opts.transport)
  }

  /**
   * A reload changed connection settings: new requests use a new keep-alive pool; the old one
   * closes once its in-flight requests are done.
   */
  setTransportOptions(opts: TransportOptions): void {
    const a = this.#transportOptions
    if (a.connections === opts.connections && a.idleTimeout === opts.idleTimeout &&
      a.connectTimeout === opts.connectTimeout && a.rejectUnauthorized === opts.rejectUnauthorized && a.client === opts.client) return
    const old = this.transport
    this.#transportOptions = opts
    this.transport = createTransport(this.address, opts)
    void old.close().catch(() => {})
  }

  now(): number {
    return this.#clock()
  }

  /** True when a policy may pick this upstream for a new request. */
  available(now = this.#clock()): boolean {
    return !this.draining && this.activeHealthy && now >= this.downUntil
  }

  /** The weight after slow start; hash policies use the nominal weight instead, for stability. */
  effectiveWeight(now = this.#clock()): number {
    if (this.slowStart <= 0 || this.recoveredAt === 0) return this.weight
    const ramp = (now - this.recoveredAt) / this.slowStart
    if (ramp >= 1) return this.weight
    // Never exactly zero: a recovering upstream still gets the odd request, which is its probe.
    return this.weight * Math.max(ramp, 0.02)
  }

  /** Passive health (nginx semantics): `maxFails` failures within `failTimeout` → down for `failTimeout`. */
  recordFailure(now = this.#clock()): void {
    if (this.maxFails <= 0) return
    const since = now - this.failTimeout
    const fails = this.#failures.filter((t) => t > since)
    fails.push(now)
    if (fails.length >= this.maxFails) {
      this.downUntil = now + this.failTimeout
      this.recoveredAt = this.downUntil
      this.#failures = []
    } else {
      this.#failures = fails
    }
  }

  /** Failures counted in the current window (for status pages and tests). */
  failures(now = this.#clock()): number {
    const since = now - this.failTimeout
    return this.#failures.filter((t) => t > since).length
  }

  /** Active health: called by the checker when rise/fall thresholds flip the state. */
  setActiveHealthy(healthy: boolean): void {
    if (healthy === this.activeHealthy) return
    this.activeHealthy = healthy
    if (healthy) {
      const now = this.#clock()
      this.recoveredAt = now
      this.downUntil = Math.min(this.downUntil, now)
      this.#failures = []
    }
  }

  acquire(): void {
    this.inFlight++
  }

  release(): void {
    this.inFlight--
    if (this.inFlight <= 0 && this.#drained) this.#drained()
  }

  /** Stops new requests, waits for in-flight ones (and sockets) to finish, then closes connections. */
  drain(): Promise<void> {
    this.draining = true
    this.#draining ??= (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => { this.#drained = resolve })
      await this.transport.close()
    })()
    return this.#draining
  }

  /** Closes at once (process shutdown): in-flight requests fail. */
  async destroy(): Promise<void> {
    this.draining = true
    await this.transport.destroy()
  }

  /** A snapshot for logs, status pages and tests. */
  state(now = this.#clock()) {
    return {
      address: this.address,
      weight: this.weight,
      effectiveWeight: this.effectiveWeight(now),
      available: this.available(now),
      activeHealthy: this.activeHealthy,
      down: now < this.downUntil,
      failures: this.failures(now),
      inFlight: this.inFlight,
      draining: this.draining,
    }
  }
}
