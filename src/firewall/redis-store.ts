// The shared store: one EVALSHA per event-loop turn against Redis (all the decisions of that turn), with a local MemoryStore taking over
// while Redis is unreachable (fail open by default; fail closed answers 503). The outage is
// logged once when it starts and once when Redis is back; reconnection is ioredis's, automatic.
import { Command, Redis, type RedisOptions } from 'ioredis'
import { MemoryStore } from './memory-store.ts'
import { FIREWALL_LUA } from './redis-script.ts'
import { NO_ZONES, OK, isReused, type BanInfo, type BanPolicy, type FirewallStore, type HitCallback, type HitInput, type HitResult, type Jail } from './store.ts'

export interface RedisStoreOptions {
  url: string
  /** Every key starts with this (`causeway:fw:`), so several apps can share one Redis. */
  prefix: string
  policy: BanPolicy
  /** 'closed': while Redis is down, answer with `unavailable` (the firewall sends 503). */
  failMode?: 'open' | 'closed'
  /** Give up on a command after this many ms and use the local limiter. */
  commandTimeout?: number
  log?: (entry: Record<string, unknown>) => void
  /** Extra ioredis options (tests). */
  redisOptions?: RedisOptions
}

/** A HitResult the firewall turns into 503 when the store is unavailable and failing closed. */
export const UNAVAILABLE: HitResult = Object.freeze({ ...OK, limited: -2 })

/** Decisions in one EVALSHA at most (a turn with more sends several). */
const MAX_BATCH = 256
/** Batches sent and not yet answered, at most (a full batch goes regardless). */
const MAX_INFLIGHT = 1
/** …and at most about this many keys (the script unpacks them into one MGET; Lua's stack has room for 8,000). */
const MAX_BATCH_KEYS = 2048

interface Profile {
  /** Its arguments, already in protocol form (see `bulk`), and how many there are. */
  encoded: string
  argc: number
  /** The batch it was last sent in, and its 1-based slot there. */
  batch: Batch | undefined
  slot: number
}

interface ProfileNode {
  next: Map<unknown, ProfileNode>
  profile?: Profile
}

function step(node: ProfileNode, value: unknown): ProfileNode {
  let n = node.next.get(value)
  if (n === undefined) { n = { next: new Map() }; node.next.set(value, n) }
  return n
}

/** One argument in the Redis protocol (RESP): `$<byte length>\r\n<value>\r\n`. */
function bulk(value: string | number): string {
  const v = String(value)
  return `$${Buffer.byteLength(v)}\r\n${v}\r\n`
}

interface Batch {
  /** The decisions' ban keys, then their bucket keys, each in protocol form; how many in all. */
  banKeys: string
  bucketKeys: string
  keyCount: number
  /** The profiles sent (each once), in protocol form, and how many arguments they make. */
  profileArgs: string
  profileArgc: number
  profileCount: number
  slots: number[]
  inputs: HitInput[]
  /** Called with each decision's result, in order (hitWith()'s `done`, or hit()'s resolve). */
  callbacks: HitCallback[]
}

const newBatch = (): Batch => ({ banKeys: '', bucketKeys: '', keyCount: 0, profileArgs: '', profileArgc: 0, profileCount: 0, slots: [], inputs: [], callbacks: [] })

// hit() makes its promise with this one executor instead of a closure per decision.
let captured: HitCallback = () => {}
const capture = (resolve: HitCallback): void => { captured = resolve }

/**
 * What the firewall remembers per frozen zone list (the one it reuses for every request of an
 * address): its profile, and the protocol text of its group's ban key and of its bucket keys, so
 * that such a request finds all of them with one WeakMap lookup.
 */
interface ZoneListEntry {
  jail: Jail | undefined
  profile: Profile
  group: string
  banKey: string
  bucketKeys: string
}

// A batch's EVALSHA goes to ioredis already encoded: its own command building (flattening the
// argument array, converting and measuring every argument, concatenating the protocol text) cost
// more than everything else the edge does for a decision. Each key's protocol text is built once
// (#encodedKey) and a batch's text is a concatenation of them. No reply encoding: integers come
// back as numbers. ioredis still does the rest (queueing, timeouts, resending, errors).
class EncodedCommand extends Command {
  readonly #text: string
  constructor(text: string) {
    super('evalsha', [])
    this.#text = text
  }

  override toWritable(): string {
    return this.#text
  }
}

/**
 * @example const store = new RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'causeway:fw:', policy })
 */
export class RedisStore implements FirewallStore {
  readonly kind = 'redis' as const
  readonly prefix: string
  #redis: Redis
  #local: MemoryStore
  #sha: string | undefined
  #loading: Promise<void> | undefined
  #down = false
  #failClosed: boolean
  /** The ban policy's forgetAfter (ms): how long a ban count outlives its last ban. */
  #forgetAfter: number
  /** ARGV 1–5 (prefix and ban policy), in protocol form. */
  #fixedArgs: string
  #log: (entry: Record<string, unknown>) => void
  #closed = false

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.prefix
    this.#failClosed = opts.failMode === 'closed'
    this.#log = opts.log ?? (() => {})
    this.#local = new MemoryStore({ policy: opts.policy })
    const p = opts.policy
    this.#forgetAfter = p.forgetAfter
    this.#fixedArgs = [this.prefix, p.banTime, p.factor, p.maxBanTime, p.forgetAfter].map(bulk).join('')
    this.#redis = new Redis(opts.url, {
      // Never queue behind a dead connection: a request must not wait for Redis to come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeout ?? 1000,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      ...opts.redisOptions,
    })
    this.#redis.on('ready', () => {
      this.#loading = this.#load().then(() => this.#markUp())
    })
    this.#redis.on('error', (e: Error) => this.#markDown(e))
    this.#redis.on('close', () => { if (!this.#closed) this.#markDown(new Error('connection closed')) })
  }

  /** Resolves once the script is loaded (or rejects after `ms`): for tests and the CLI. */
  async ready(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms
    while (!this.#sha) {
      if (Date.now() > deadline) throw new Error(`Redis not ready after ${ms} ms`)
      await (this.#loading ?? new Promise((r) => setTimeout(r, 20)))
      if (!this.#sha) await new Promise((r) => setTimeout(r, 20))
    }
  }

  get connected(): boolean {
    return this.#redis.status === 'ready' && this.#sha !== undefined && !this.#down
  }

  async #load(): Promise<void> {
    try {
      this.#sha = (await this.#redis.script('LOAD', FIREWALL_LUA)) as string
    } catch (e) {
      this.#markDown(e as Error)
    }
  }

  #markDown(e: Error): void {
    if (this.#closed || this.#down) return
    this.#down = true
    const mode = this.#failClosed ? 'fail closed: answering 503' : 'fail open: using local in-memory limits'
    this.#log({ level: 'error', msg: `firewall: Redis unreachable (${e.message}); ${mode}`, store: 'redis' })
    // A command can fail (timeout) on a connection ioredis still calls ready, so no 'ready' event
    // would ever end the outage: probe until Redis answers.
    const probe = setInterval(() => {
      if (this.#closed || !this.#down) return clearInterval(probe)
      if (this.#redis.status !== 'ready') return
      this.#redis.ping().then(() => { clearInterval(probe); this.#markUp() }, () => {})
    }, 1000)
    probe.unref()
  }

  #markUp(): void {
    if (!this.#down || !this.#sha || this.#redis.status !== 'ready') return
    this.#down = false
    this.#log({ level: 'info', msg: 'firewall: Redis is reachable again; shared limits resume', store: 'redis' })
  }

  #keys(group: string, jail: string): string[] {
    const p = this.prefix
    return [`${p}b:${group}`, `${p}n:${group}`, `${p}s:${jail}:${group}`]
  }

  // Decisions asked for in the same event-loop turn wait for one EVALSHA (sent from setImmediate,
  // i.e. once the turn's I/O callbacks have all run): one round trip, one command to encode and one
  // reply to parse for the whole turn instead of one per request. The script decides them in
  // arrival order, each atomically, so the outcome is the one a round trip per request gives.
  // While a batch is out, the next one keeps collecting and goes when the reply is in (at most
  // MAX_INFLIGHT batches out at once): under load, batches grow instead of round trips multiplying.
  #batch: Batch = newBatch()
  #flushScheduled = false
  #inflight = 0
  readonly #flushNow = () => {
    this.#flushScheduled = false
    if (this.#inflight < MAX_INFLIGHT) this.#flush()
  }
  readonly #landed = () => {
    this.#inflight--
    if (this.#batch.inputs.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(this.#flushNow)
    }
  }
  // Profiles (the jail and the zones' parameters, redis-script.ts) by value: mode → jail name →
  // maxRetry → findTime → rate → burst → delay → ttl → … → profile. Built once per distinct
  // config; sent at most once per batch.
  #profiles: ProfileNode = { next: new Map() }
  // …and the profile of each reused zone list: the firewall marks the list it reuses for every
  // request of a client (firewall.ts zonesFor, store.ts markReused), so most requests find their profile with one
  // lookup instead of walking the tree; lists built for one request are not remembered.
  #zoneProfiles = new WeakMap<HitInput['zones'], ZoneListEntry>()
  // Full key names (prefix + b:group, prefix + r:zone key) in protocol form, built once per group
  // and bucket rather than for every request.
  #banKeys = new Map<string, string>()
  #bucketKeys = new Map<string, string>()

  /** `prefix + kind + id` as a protocol argument, remembered in `cache` (cleared at 10,000 names). */
  #encodedKey(cache: Map<string, string>, kind: string, id: string): string {
    let k = cache.get(id)
    if (k === undefined) {
      k = bulk(`${this.prefix}${kind}${id}`)
      if (cache.size >= 10_000) cache.clear()
      cache.set(id, k)
    }
    return k
  }

  #profile(jail: Jail | undefined, strike: boolean, zones: HitInput['zones']): Profile {
    let node = step(this.#profiles, strike ? 's' : 'h')
    if (jail) node = step(step(step(node, jail.name), jail.maxRetry), jail.findTime)
    for (const z of zones) node = step(step(step(step(node, z.rate), z.burst), z.delay), z.ttl)
    if (node.profile === undefined) {
      const args: (string | number)[] = [strike ? 's' : 'h', jail?.maxRetry ?? 0, jail?.findTime ?? 0, jail?.name ?? '-', zones.length]
      for (const z of zones) args.push(z.rate, z.burst, z.delay === Infinity ? -1 : z.delay, z.ttl)
      node.profile = { encoded: args.map(bulk).join(''), argc: args.length, batch: undefined, slot: 0 }
    }
    return node.profile
  }

  hit(input: HitInput): HitResult | Promise<HitResult> {
    if (this.#down || !this.#sha || this.#redis.status !== 'ready') return this.#fallback(input)
    const promise = new Promise<HitResult>(capture)
    this.#enqueue(input, captured)
    return promise
  }

  hitWith(input: HitInput, done: HitCallback): HitResult | undefined {
    if (this.#down || !this.#sha || this.#redis.status !== 'ready') return this.#fallback(input)
    this.#enqueue(input, done)
    return undefined
  }

  /** Adds a decision to the batch being collected; `done` gets its result once the reply is in. */
  #enqueue(input: HitInput, done: HitCallback): void {
    const b = this.#batch
    const strike = input.strike !== undefined
    const zones = strike ? NO_ZONES : input.zones
    const nz = zones.length
    let profile: Profile
    let entry: ZoneListEntry | undefined
    if (strike) profile = this.#profile(input.strike, true, zones)
    else {
      entry = this.#zoneProfiles.get(zones)
      if (entry !== undefined && entry.jail === input.limitJail) profile = entry.profile
      else {
        profile = this.#profile(input.limitJail, false, zones)
        entry = undefined
        if (isReused(zones)) {
          let bucketKeys = ''
          for (let i = 0; i < nz; i++) bucketKeys += this.#encodedKey(this.#bucketKeys, 'r:', zones[i]!.key)
          entry = { jail: input.limitJail, profile, group: input.group, banKey: this.#encodedKey(this.#banKeys, 'b:', input.group), bucketKeys }
          this.#zoneProfiles.set(zones, entry)
        }
      }
    }
    if (profile.batch !== b) {
      profile.batch = b
      profile.slot = ++b.profileCount
      b.profileArgs += profile.encoded
      b.profileArgc += profile.argc
    }
    // The same zone list normally comes with the same group (both belong to one address); the
    // keys' text is taken from the entry only when it does.
    if (entry !== undefined && entry.group === input.group) {
      b.banKeys += entry.banKey
      b.bucketKeys += entry.bucketKeys
    } else {
      b.banKeys += this.#encodedKey(this.#banKeys, 'b:', input.group)
      for (let i = 0; i < nz; i++) b.bucketKeys += this.#encodedKey(this.#bucketKeys, 'r:', zones[i]!.key)
    }
    b.keyCount += 1 + nz
    b.slots.push(profile.slot)
    b.inputs.push(input)
    b.callbacks.push(done)
    if (b.inputs.length >= MAX_BATCH || b.keyCount >= MAX_BATCH_KEYS) this.#flush()
    else if (!this.#flushScheduled && this.#inflight < MAX_INFLIGHT) {
      this.#flushScheduled = true
      setImmediate(this.#flushNow)
    }
  }

  strikeOnly(group: string, jail: Jail): HitResult | Promise<HitResult> {
    return this.hit({ group, zones: NO_ZONES, strike: jail })
  }

  #flush(): void {
    const b = this.#batch
    const n = b.inputs.length
    if (n === 0) return
    this.#batch = newBatch()
    if (this.#down || this.#redis.status !== 'ready') {
      // Redis went away while this batch waited for the one before it.
      for (let i = 0; i < n; i++) b.callbacks[i]!(this.#fallback(b.inputs[i]!))
      return
    }
    // EVALSHA sha numkeys KEYS… ARGV… (redis-script.ts); the sha goes in when it is sent.
    let text = bulk(b.keyCount) + b.banKeys + b.bucketKeys + this.#fixedArgs + bulk(b.profileCount) + b.profileArgs + bulk(n)
    let argc = 3 + b.keyCount + 5 + 1 + b.profileArgc + 1
    // One profile (the usual case: one set of zones for every client): no per-decision slot.
    if (b.profileCount > 1) {
      for (const x of b.slots) text += bulk(x)
      argc += n
    }
    this.#inflight++
    this.#evalBatch(argc, text).finally(this.#landed).then((r) => {
      const at = r[0] as number
      // A flag byte per decision: '0' go on (OK at Redis's clock), '1' its six numbers follow
      // (redis-script.ts). ioredis hands bulk strings over as Buffers.
      const flags = r[1] as Buffer
      const ok: HitResult = { ...OK, at }
      const cbs = b.callbacks
      for (let i = 0, o = 2; i < n; i++) {
        if (flags[i] === 48 /* 0 */) { cbs[i]!(ok); continue }
        cbs[i]!({ bannedMs: r[o] as number, freshBan: r[o + 1] === 1, limited: r[o + 2] as number, retryMs: r[o + 3] as number, delayMs: r[o + 4] as number, delayZone: r[o + 5] as number, at })
        o += 6
      }
    }, (e: Error) => {
      this.#markDown(e)
      for (let i = 0; i < n; i++) b.callbacks[i]!(this.#fallback(b.inputs[i]!))
    })
  }

  /** Sends EVALSHA with `argc` - 2 arguments after the sha, `text` in protocol form. */
  #send(argc: number, text: string): Promise<(number | Buffer)[]> {
    const cmd = new EncodedCommand(`*${argc}\r\n$7\r\nevalsha\r\n${bulk(this.#sha!)}${text}`)
    return this.#redis.sendCommand(cmd) as Promise<(number | Buffer)[]>
  }

  async #evalBatch(argc: number, text: string): Promise<(number | Buffer)[]> {
    try {
      return await this.#send(argc, text)
    } catch (e) {
      // After a Redis restart the script cache is empty: load it again and retry once (the script
      // did not run, so nothing was charged twice).
      if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e
      await this.#load()
      return await this.#send(argc, text)
    }
  }

  #fallback(input: HitInput): HitResult {
    return this.#failClosed ? UNAVAILABLE : this.#local.hit(input)
  }

  async ban(group: string, ms: number, reason = 'manual'): Promise<void> {
    const [banKey, countKey] = this.#keys(group, '-')
    await this.#redis.multi().set(banKey!, reason, 'PX', Math.max(1, Math.floor(ms))).incr(countKey!)
      .pexpire(countKey!, Math.max(this.#forgetAfter, ms)).exec()
  }

  async unban(group: string): Promise<boolean> {
    return (await this.#redis.del(`${this.prefix}b:${group}`)) > 0
  }

  async bans(): Promise<BanInfo[]> {
    const out: BanInfo[] = []
    const pattern = `${this.prefix}b:*`
    let cursor = '0'
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      if (keys.length === 0) continue
      const pipe = this.#redis.pipeline()
      for (const k of keys) pipe.get(k).pttl(k)
      const res = (await pipe.exec()) ?? []
      const now = Date.now()
      keys.forEach((k, i) => {
        const reason = res[i * 2]?.[1] as string | null
        const ttl = res[i * 2 + 1]?.[1] as number
        if (reason !== null && ttl > 0) out.push({ group: k.slice(this.prefix.length + 2), until: now + ttl, reason })
      })
    } while (cursor !== '0')
    return out
  }

  /** Adds this process's decision counters to the shared totals (for `causeway firewall status`). */
  async addCounters(counts: Record<string, number>): Promise<void> {
    if (!this.connected) return
    const pipe = this.#redis.pipeline()
    for (const [k, v] of Object.entries(counts)) if (v) pipe.hincrby(`${this.prefix}stats`, k, v)
    await pipe.exec().catch(() => {})
  }

  async counters(): Promise<Record<string, number>> {
    const raw = await this.#redis.hgetall(`${this.prefix}stats`)
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]))
  }

  /** Deletes every key under the prefix (tests). */
  async clear(): Promise<void> {
    let cursor = '0'
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await this.#redis.del(...keys)
    } while (cursor !== '0')
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#local.close()
    this.#redis.disconnect()
  }
}
