// A named pool of upstreams: membership, the balancing policy, fail-open and sticky tokens.
// Health checkers change upstream state; the pool only answers "who may take a request now".
import { createHmac, randomBytes } from 'node:crypto'
import type { BalancingPolicy, PoolView, SelectContext } from './policy.ts'
import { createPolicy } from './policies/index.ts'
import { Upstream, type Clock } from './upstream.ts'
import type { PoolSettings, TargetSettings } from './settings.ts'

export class UpstreamPool implements PoolView {
  readonly name: string
  settings: PoolSettings
  policy: BalancingPolicy
  version = 0
  #members: Upstream[] = []
  #clock: Clock
  #secret: Buffer
  #tokens = new Map<string, Upstream>()
  #tokenOf = new Map<Upstream, string>()
  #closed = false

  constructor(name: string, settings: PoolSettings, clock: Clock = Date.now) {
    this.name = name
    this.settings = settings
    this.#clock = clock
    this.policy = createPolicy({ policy: settings.policy, hashKey: settings.hashKey })
    // Without a configured secret the sticky cookie is only valid for this process's lifetime.
    this.#secret = settings.sticky.secret ? Buffer.from(settings.sticky.secret) : randomBytes(32)
    this.#setTargets(settings.targets)
  }

  now(): number {
    return this.#clock()
  }

  get closed(): boolean {
    return this.#closed
  }

  members(): readonly Upstream[] {
    return this.#members
  }

  available(tried?: ReadonlySet<Upstream>): Upstream[] {
    const now = this.#clock()
    const out: Upstream[] = []
    let anyHealthy = false
    for (const u of this.#members) {
      if (!u.available(now)) continue
      anyHealthy = true
      if (!tried?.has(u)) out.push(u)
    }
    if (anyHealthy || !this.settings.failOpen) return out
    // ALB fail-open: when every target is unhealthy, route to all as if they were healthy.
    return this.#members.filter((u) => !u.draining && !tried?.has(u))
  }

  isAvailable(u: Upstream, tried?: ReadonlySet<Upstream>): boolean {
    if (u.draining || tried?.has(u)) return false
    const now = this.#clock()
    if (u.available(now)) return true
    return this.settings.failOpen && !this.#members.some((m) => m.available(now))
  }

  /** Picks an upstream for a request (retries pass the ones already tried). */
  select(ctx: SelectContext, tried?: ReadonlySet<Upstream>): Upstream | undefined {
    return this.policy.select(this, ctx, tried)
  }

  /** The opaque sticky-cookie value naming `u` (an HMAC of pool and address, not the address). */
  stickyToken(u: Upstream): string {
    return this.#tokenOf.get(u) ?? ''
  }

  /** The upstream a sticky cookie names, or undefined for unknown or forged values. */
  byStickyToken(token: string): Upstream | undefined {
    return this.#tokens.get(token)
  }

  /**
   * Applies new settings. Upstreams whose address is unchanged keep their state (health, in-flight,
   * slow start); removed ones drain. Returns when the removed ones have finished.
   */
  async update(settings: PoolSettings): Promise<void> {
    const policyChanged = settings.policy !== this.settings.policy || settings.hashKey !== this.settings.hashKey
    if (settings.sticky.secret && settings.sticky.secret !== this.settings.sticky.secret) this.#secret = Buffer.from(settings.sticky.secret)
    this.settings = settings
    if (policyChanged) this.policy = createPolicy({ policy: settings.policy, hashKey: settings.hashKey })
    const removed = this.#setTargets(settings.targets)
    await Promise.all(removed.map((u) => u.drain()))
  }

  /** Drains every upstream (graceful) or destroys connections at once. */
  async close(graceful = true): Promise<void> {
    this.#closed = true
    const all = this.#members
    this.#members = []
    this.version++
    await Promise.all(all.map((u) => (graceful ? u.drain() : u.destroy())))
  }

  #setTargets(targets: readonly TargetSettings[]): Upstream[] {
    const old = new Map(this.#members.map((u) => [u.address, u]))
    const next: Upstream[] = []
    const s = this.settings
    const transport = {
      connections: s.keepalive.connections,
      idleTimeout: s.keepalive.idleTimeout,
      connectTimeout: s.connectTimeout,
      rejectUnauthorized: s.tlsVerify,
      client: s.client,
    }
    for (const t of targets) {
      const opts = {
        address: t.address,
        weight: t.weight,
        maxFails: t.maxFails ?? s.maxFails,
        failTimeout: t.failTimeout ?? s.failTimeout,
        slowStart: s.slowStart,
      }
      let u = old.get(t.address)
      if (u) {
        old.delete(t.address)
        u.weight = opts.weight
        u.maxFails = opts.maxFails
        u.failTimeout = opts.failTimeout
        u.slowStart = opts.slowStart
        u.setTransportOptions(transport)
      } else {
        u = new Upstream({ ...opts, transport }, this.#clock)
      }
      next.push(u)
    }
    this.#members = next
    this.version++
    this.#tokens.clear()
    this.#tokenOf.clear()
    for (const u of next) {
      const token = createHmac('sha256', this.#secret).update(`${this.name}\0${u.address}`).digest('base64url').slice(0, 22)
      this.#tokens.set(token, u)
      this.#tokenOf.set(u, token)
    }
    return [...old.values()]
  }
}
