// The firewall stage: lists, bot rules, bans and limit_req zones, decided per request with at most
// one store round trip. Everything that can be is compiled at startup (config, CIDR sets, rule
// regexes, zone matchers); the per-request path is flat so a span wrapper can go around decide().
import { createHash } from 'node:crypto'
import type { Firewall, FirewallRequest, Decision, DecisionCallback } from './contract.ts'
import { compileConfig, type CompiledConfig, type CompiledZone } from './config.ts'
import { createClientIdentifier, type ClientIdentifier } from './identity.ts'
import { AddressList } from './lists.ts'
import { BotRules, type BotHit } from './bots.ts'
import { MemoryStore } from './memory-store.ts'
import { RedisStore } from './redis-store.ts'
import { Counters, type CounterSnapshot, type Outcome } from './counters.ts'
import { startAdmin, type AdminServer } from './admin.ts'
import { ConfigError } from '../errors.ts'
import { NO_ZONES, OK, markReused, type BanInfo, type FirewallStore, type HitInput, type HitResult, type Jail, type ZoneHit } from './store.ts'

/**
 * Response header an app sets to report a failed login. The edge MUST remove it from the response
 * before it reaches the client (after passing the headers to observe()).
 */
export const AUTH_FAILURE_HEADER = 'x-causeway-auth-failure'

export type LogSink = (entry: Record<string, unknown>) => void

export interface FirewallOptions {
  /** Directory relative list and rule files resolve against (the config file's). */
  root?: string
  /** Receives structured entries; default: one JSON line each on stderr. */
  log?: LogSink
  env?: NodeJS.ProcessEnv
  /** Use this store instead of the configured one (tests, custom stores). */
  store?: FirewallStore
}

export interface FirewallStats {
  store: 'memory' | 'redis'
  /** For Redis: whether the shared store is in use right now (false = local fallback). */
  connected: boolean
  dryRun: boolean
  counters: CounterSnapshot
  connections: number
}

/** The Firewall contract plus what operations need. */
export interface FirewallService extends Firewall {
  readonly identifier: ClientIdentifier
  readonly store: FirewallStore
  readonly config: CompiledConfig
  readonly admin: AdminServer | undefined
  stats(): FirewallStats
  /** Bans an address (or a group such as `2001:db8::/64`) for `ms` (default bans.banTime). Returns the group. */
  ban(address: string, ms?: number, reason?: string): Promise<string>
  unban(address: string): Promise<boolean>
  bans(): Promise<BanInfo[]>
}

const ALLOW: Decision = Object.freeze({ action: 'allow' })
// The jail a probe strikes into when the scanner jail is off (maxRetry 0: never bans).
const NO_SCANNER_JAIL: Jail = Object.freeze({ name: 'scanner', maxRetry: 0, findTime: 0 })
const NOOP = () => {}

export const defaultLog: LogSink = (entry) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined
  }
  return undefined
}

// Untrusted key material (header and cookie values) is hashed when long, so a client cannot make
// the store hold arbitrarily long keys.
function keyPart(v: string): string {
  return v.length <= 64 ? v : createHash('sha1').update(v).digest('base64url')
}

/**
 * Builds the firewall from the `firewall` config section.
 * @example
 * const fw = createFirewall({ zones: [{ name: 'all', rate: '10r/s', burst: 20, nodelay: true }] })
 * const d = await fw.decide({ clientAddress, method: req.method!, path, headers: req.headers, httpVersion: req.httpVersion })
 * if (d.action === 'reject') { res.writeHead(d.status, d.retryAfterSeconds ? { 'retry-after': String(d.retryAfterSeconds) } : {}); res.end() }
 */
export function createFirewall(config: Record<string, unknown> = {}, opts: FirewallOptions = {}): FirewallService {
  const cfg = compileConfig(config, opts.env)
  const s = cfg.settings
  const log = opts.log ?? defaultLog
  const root = opts.root ?? process.cwd()
  const identifier = createClientIdentifier({ trustedProxies: s.trustedProxies as string[], v6Prefix: s.v6Prefix })
  const listOpts = { root, watch: s.watchFiles as 'auto', pollInterval: s.pollInterval, log }
  const allow = new AddressList({ ...listOpts, key: 'firewall.allow', entries: s.allow as string[], files: s.allowFiles as string[] })
  const deny = new AddressList({ ...listOpts, key: 'firewall.deny', entries: s.deny as string[], files: s.denyFiles as string[] })
  const bots = cfg.bots.enabled ? new BotRules(cfg.bots, listOpts) : undefined
  const store = opts.store ?? makeStore(cfg, log)
  const counters = new Counters()
  const { jails, zones: allZones } = cfg
  const dryRun = s.dryRun
  // The settings object holds every firewall setting (a slow, dictionary-mode object in V8): the
  // ones read per request or per connection are read once here.
  const enabled = s.enabled
  const logBlocks = s.logBlocks
  const connectionsPerClient = s.connectionsPerClient
  // A dry run never changes ban state (no strikes), so switching it off starts from a clean slate;
  // bans that already exist are still reported as what would have happened.
  const limitJail: Jail | undefined = jails.rateLimit.maxRetry > 0 && !dryRun ? jails.rateLimit : undefined
  const scannerJail: Jail | undefined = jails.scanner.maxRetry > 0 && !dryRun ? jails.scanner : undefined
  const needStore = cfg.bansEnabled || allZones.length > 0
  // Requests the firewall itself answered: their 403s must not count as the client's 403 burst.
  const answered = new WeakSet<FirewallRequest>()
  const connections = new Map<string, number>()
  let openConnections = 0
  let tarpits = 0

  const flush = store instanceof RedisStore
    ? setInterval(() => { void store.addCounters(counters.drain()) }, 2000)
    : undefined
  flush?.unref()

  // What the lists and the identifier say about an address, cached (bounded) so a request costs
  // one Map lookup for all three; rebuilt when a list file is reloaded.
  interface AddressFacts { allowed: boolean; denied: boolean; group: string; zones: readonly ZoneHit[] | undefined }
  let facts = new Map<string, AddressFacts>()
  let listVersion = -1
  function factsOf(addr: string): AddressFacts {
    const v = allow.version + deny.version
    if (v !== listVersion) { facts = new Map(); listVersion = v }
    let f = facts.get(addr)
    if (f === undefined) {
      f = { allowed: allow.has(addr), denied: deny.has(addr), group: identifier.group(addr), zones: undefined }
      if (facts.size >= 10_000) facts.clear()
      facts.set(addr, f)
    }
    return f
  }

  // Zones keyed by client that apply everywhere give the same hits for every request of a group:
  // those hit lists are built once per address (in its facts) and reused, keys and all.
  const clientOnly = allZones.every((z) => z.key === 'client' && !z.applies)

  function zonesFor(req: FirewallRequest, f: AddressFacts): readonly ZoneHit[] {
    if (clientOnly && f.zones !== undefined) return f.zones
    const group = f.group
    const hits: ZoneHit[] = []
    for (const z of allZones) {
      if (z.applies && !z.applies(req.route, req.path)) continue
      const value = keyFor(z, req, group)
      if (value === undefined) continue
      hits.push({ key: `${z.name}:${value}`, rate: z.rate, burst: z.burst, delay: z.delay, ttl: z.ttl })
    }
    // Marked, not frozen (store.ts markReused): the same list serves every request of this
    // address, and stores may key on it.
    if (clientOnly) f.zones = markReused(hits)
    return hits
  }

  function keyFor(z: CompiledZone, req: FirewallRequest, group: string): string | undefined {
    if (z.key === 'client') return group
    if (z.key === 'client+route') return `${group}|${req.route ?? req.path}`
    if (z.key === 'route') return req.route ?? req.path
    let v: string | undefined
    if (z.key.startsWith('header:')) {
      const h = req.headers[z.key.slice(7)]
      v = Array.isArray(h) ? h.join(',') : h
    } else {
      v = cookieValue(req.headers.cookie, z.key.slice(7))
    }
    if (v) return `v:${keyPart(v)}`
    return z.missingKey === 'skip' ? undefined : group
  }

  function emit(req: FirewallRequest, group: string, d: Exclude<Decision, { action: 'allow' }>, outcome: Outcome): Decision {
    counters.count(outcome, d.rule, dryRun)
    if (logBlocks && d.action !== 'delay') {
      log({
        level: 'warn', msg: dryRun ? 'firewall would block (dry run)' : 'firewall block',
        rule: d.rule, action: d.action, status: d.status, client: req.clientAddress, group,
        method: req.method, path: req.path, route: req.route, reason: d.reason,
        retryAfter: d.action === 'reject' ? d.retryAfterSeconds : undefined, dryRun: dryRun || undefined,
      })
    }
    if (dryRun) return ALLOW
    if (d.action !== 'delay') answered.add(req)
    return d
  }

  function banned(req: FirewallRequest, group: string, r: HitResult, jail: string): Decision {
    if (r.freshBan) log({ level: 'warn', msg: 'firewall ban', group, jail, seconds: Math.ceil(r.bannedMs / 1000), ms: r.bannedMs, dryRun: dryRun || undefined })
    const reason = r.freshBan ? `banned for ${Math.ceil(r.bannedMs / 1000)}s (${jail})` : 'client is banned'
    return emit(req, group, { action: 'reject', status: cfg.banStatus, retryAfterSeconds: Math.ceil(r.bannedMs / 1000), rule: 'ban', reason }, 'banned')
  }

  function afterHit(req: FirewallRequest, group: string, zones: readonly ZoneHit[], r: HitResult): Decision {
    if (r.limited === -2) return emit(req, group, { action: 'reject', status: 503, rule: 'store-unavailable', reason: 'firewall store unreachable (failMode closed)' }, 'rejected')
    if (r.bannedMs > 0) return banned(req, group, r, jails.rateLimit.name)
    if (r.limited >= 0) {
      const z = zoneOf(zones[r.limited]!)
      return emit(req, group, { action: 'reject', status: z.status, retryAfterSeconds: Math.ceil(r.retryMs / 1000), rule: `limit:${z.name}`, reason: `rate limit ${z.name} exceeded` }, 'rejected')
    }
    if (r.delayMs > 0) return emit(req, group, { action: 'delay', delayMs: r.delayMs, rule: `limit:${zoneOf(zones[r.delayZone]!).name}` }, 'delayed')
    counters.allowed()
    return ALLOW
  }

  function zoneOf(hit: ZoneHit): CompiledZone {
    const name = hit.key.slice(0, hit.key.indexOf(':'))
    return allZones.find((z) => z.name === name)!
  }

  function afterBot(req: FirewallRequest, group: string, bot: BotHit, r: HitResult): Decision {
    if (r.limited === -2) return emit(req, group, { action: 'reject', status: 503, rule: 'store-unavailable', reason: 'firewall store unreachable (failMode closed)' }, 'rejected')
    if (r.bannedMs > 0) return banned(req, group, r, jails.scanner.name)
    // Tarpits hold connections open; a swarm of scanners must not turn that against the edge.
    if (bot.action === 'tarpit' && tarpits < cfg.bots.maxTarpits) {
      if (!dryRun) {
        tarpits++
        setTimeout(() => { tarpits-- }, cfg.bots.tarpitMs).unref()
      }
      return emit(req, group, { action: 'tarpit', delayMs: cfg.bots.tarpitMs, status: bot.status, rule: bot.rule, reason: bot.reason }, 'tarpitted')
    }
    return emit(req, group, { action: 'reject', status: bot.status, rule: bot.rule, reason: bot.reason }, 'rejected')
  }

  // observe() runs for every response: the statuses that count towards a burst as a table, one
  // indexed load instead of a Set lookup per response.
  const burstStatus = new Uint8Array(1000)
  for (const st of jails.statusBurst.statuses) if (st >= 0 && st < 1000) burstStatus[st] = 1

  // The in-process store answers at once: asked directly, no callback is made for it.
  const memory = store instanceof MemoryStore ? store : undefined

  /**
   * Asks the store; `after` makes the decision from its answer. Undefined: `done` gets it later.
   * `after` is the one closure a decision that waits for the store costs here: a throw in it
   * reaches `done` as the error, never the store's loop over a batch's answers.
   */
  function ask(input: HitInput, done: DecisionCallback, after: (r: HitResult) => Decision): Decision | undefined {
    if (store.hitWith !== undefined) {
      const r = store.hitWith(input, (x) => settle(done, after, x))
      return r === undefined ? undefined : after(r)
    }
    const r = store.hit(input)
    if (!(r instanceof Promise)) return after(r)
    r.then((x) => settle(done, after, x), (e: unknown) => done(undefined, e))
    return undefined
  }

  function decideWith(req: FirewallRequest, done: DecisionCallback): Decision | undefined {
    if (!enabled) return ALLOW
    const addr = req.clientAddress
    const f = factsOf(addr)
    if (f.allowed) { counters.count('allowed', 'allow-list'); return ALLOW }
    const group = f.group
    if (f.denied) return emit(req, group, { action: 'reject', status: s.denyStatus, rule: 'deny-list', reason: 'address is on the deny list' }, 'rejected')
    let bot = bots?.check(req)
    if (bot?.action === 'log') {
      counters.count('logged', bot.rule)
      log({ level: 'info', msg: 'firewall rule matched (log only)', rule: bot.rule, client: addr, group, method: req.method, path: req.path, reason: bot.reason })
      bot = undefined
    }
    if (bot) {
      const hit = bot
      if (!cfg.bansEnabled) return afterBot(req, group, hit, OK)
      const input: HitInput = { group, zones: NO_ZONES, strike: scannerJail ?? NO_SCANNER_JAIL }
      if (memory !== undefined) return afterBot(req, group, hit, memory.hit(input))
      return ask(input, done, (x) => afterBot(req, group, hit, x))
    }
    if (!needStore) { counters.allowed(); return ALLOW }
    const zones = zonesFor(req, f)
    const input: HitInput = { group, zones, limitJail }
    if (memory !== undefined) return afterHit(req, group, zones, memory.hit(input))
    return ask(input, done, (x) => afterHit(req, group, zones, x))
  }

  const service: FirewallService = {
    identifier,
    store,
    config: cfg,
    admin: undefined,

    decide(req) {
      let later: DecisionCallback = NOOP
      const d = decideWith(req, (x, e) => later(x, e))
      if (d !== undefined) return d
      return new Promise<Decision>((resolve, reject) => { later = (x, e) => x !== undefined ? resolve(x) : reject(e) })
    },

    decideWith,

    observe(req, status, headers) {
      if (!cfg.bansEnabled || !enabled || dryRun) return
      // Most responses are neither a login failure nor a 401/403/404: done before any lookup.
      const flag = headers[AUTH_FAILURE_HEADER] ?? headers['X-Causeway-Auth-Failure']
      const jail = flag !== undefined && flag !== '0' && flag !== false && flag !== 'false'
        ? jails.authFailure
        : (status >= 0 && status < 1000 ? burstStatus[status] === 1 : jails.statusBurst.statuses.has(status)) ? jails.statusBurst : undefined
      if (!jail || jail.maxRetry === 0 || answered.has(req)) return
      const f = factsOf(req.clientAddress)
      if (f.allowed) return
      const group = f.group
      try {
        const r = store.strikeOnly(group, jail)
        const done = (res: HitResult) => {
          if (res.freshBan) {
            counters.count('banned', `jail:${jail.name}`)
            log({ level: 'warn', msg: 'firewall ban', group, jail: jail.name, seconds: Math.ceil(res.bannedMs / 1000), ms: res.bannedMs })
          }
        }
        if (r instanceof Promise) r.then(done, NOOP)
        else done(r)
      } catch { /* observe never throws into the edge's response path */ }
    },

    connect(clientAddress) {
      const limit = connectionsPerClient
      if (limit === 0 || !enabled) return NOOP
      const f = factsOf(clientAddress)
      if (f.allowed) return NOOP
      const group = f.group
      const n = connections.get(group) ?? 0
      if (n >= limit) {
        const d: Decision = { action: 'reject', status: s.connectionStatus, rule: 'limit_conn', reason: `more than ${limit} connections` }
        counters.count('rejected', 'limit_conn', dryRun)
        if (logBlocks) log({ level: 'warn', msg: dryRun ? 'firewall would block (dry run)' : 'firewall block', rule: 'limit_conn', action: 'reject', status: d.status, client: clientAddress, group, reason: d.reason, dryRun: dryRun || undefined })
        if (!dryRun) return d
      }
      connections.set(group, n + 1)
      openConnections++
      let released = false
      return () => {
        if (released) return
        released = true
        openConnections--
        const left = (connections.get(group) ?? 1) - 1
        if (left <= 0) connections.delete(group)
        else connections.set(group, left)
      }
    },

    stats() {
      return {
        store: store.kind,
        connected: store instanceof RedisStore ? store.connected : true,
        dryRun,
        counters: counters.snapshot(),
        connections: openConnections,
      }
    },

    async ban(address, ms = cfg.policy.banTime, reason = 'manual') {
      const group = address.includes('/') ? address : identifier.group(address)
      await store.ban(group, ms, reason)
      log({ level: 'warn', msg: 'firewall ban', group, jail: reason, seconds: Math.ceil(ms / 1000), ms })
      return group
    },

    async unban(address) {
      const group = address.includes('/') ? address : identifier.group(address)
      return store.unban(group)
    },

    bans: () => store.bans(),

    async close() {
      clearInterval(flush)
      if (flush && store instanceof RedisStore) await store.addCounters(counters.drain())
      allow.close()
      deny.close()
      bots?.close()
      await service.admin?.close()
      await store.close()
    },
  }
  if (s.adminListen) (service as { admin: AdminServer | undefined }).admin = startAdmin(service, s.adminListen, log)
  return service
}

function settle(done: DecisionCallback, after: (r: HitResult) => Decision, r: HitResult): void {
  let d: Decision
  try { d = after(r) } catch (e) { done(undefined, e); return }
  done(d)
}

function makeStore(cfg: CompiledConfig, log: LogSink): FirewallStore {
  const s = cfg.settings
  const useRedis = s.store === 'redis' || (s.store === 'auto' && s.redisUrl !== '')
  if (!useRedis) return new MemoryStore({ policy: cfg.policy })
  if (!s.redisUrl) throw new ConfigError('firewall.redisUrl', "store is 'redis' but no URL is set (set firewall.redisUrl or REDIS_URL)")
  return new RedisStore({ url: s.redisUrl, prefix: s.redisPrefix, policy: cfg.policy, failMode: s.failMode as 'open' | 'closed', log })
}
