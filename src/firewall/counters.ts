// Decision counters: totals per outcome and per rule, kept per process (cheap increments on the
// hot path); the Redis store adds them to shared totals now and then for `causeway firewall status`.

export type Outcome = 'allowed' | 'delayed' | 'rejected' | 'banned' | 'tarpitted' | 'logged'

export interface CounterSnapshot {
  totals: Record<Outcome, number>
  /** `outcome:rule` → count, e.g. `rejected:limit:api`, `banned:ban`. */
  byRule: Record<string, number>
  /** Decisions a dry run turned into allow: `would-rejected:limit:api`. */
  dryRun: Record<string, number>
}

export class Counters {
  #totals: Record<Outcome, number> = { allowed: 0, delayed: 0, rejected: 0, banned: 0, tarpitted: 0, logged: 0 }
  // The totals at the last drain(): drain() reports the difference, so counting a total is one
  // increment (the hot path counts 'allowed' once per request).
  #drained: Record<Outcome, number> = { ...this.#totals }
  #byRule = new Map<string, number>()
  #dry = new Map<string, number>()
  #unflushed = new Map<string, number>()

  /** count('allowed') without a rule: the per-request common case. */
  allowed(): void {
    this.#totals.allowed++
  }

  count(outcome: Outcome, rule?: string, dryRun = false): void {
    if (dryRun) {
      const k = `would-${outcome}:${rule}`
      this.#dry.set(k, (this.#dry.get(k) ?? 0) + 1)
      this.#totals.allowed++
      return
    }
    this.#totals[outcome]++
    if (rule !== undefined) {
      const k = `${outcome}:${rule}`
      this.#byRule.set(k, (this.#byRule.get(k) ?? 0) + 1)
      this.#bump(k)
    }
  }

  #bump(k: string): void {
    this.#unflushed.set(k, (this.#unflushed.get(k) ?? 0) + 1)
  }

  snapshot(): CounterSnapshot {
    return { totals: { ...this.#totals }, byRule: Object.fromEntries(this.#byRule), dryRun: Object.fromEntries(this.#dry) }
  }

  /** Counts since the last drain (for the shared totals in Redis). */
  drain(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const k of Object.keys(this.#totals) as Outcome[]) {
      const d = this.#totals[k] - this.#drained[k]
      if (d) out[k] = d
      this.#drained[k] = this.#totals[k]
    }
    for (const [k, v] of this.#unflushed) out[k] = v
    this.#unflushed.clear()
    return out
  }
}
