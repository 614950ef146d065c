// Scanner and malformed-request rules. Rule files (the default bot-rules.txt plus the user's) are
// compiled into one regular expression per kind and action, so a request costs a handful of
// regex tests whatever the list length.
import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.ts'
import type { BotSettings, RuleAction } from './config.ts'
import type { FirewallRequest } from './contract.ts'
import { WatchedFile, meaningfulLines, type WatchMode } from './watched-file.ts'

export const DEFAULT_BOT_RULES_FILE = fileURLToPath(new URL('./bot-rules.txt', import.meta.url))

export interface BotHit {
  rule: 'bot.agent' | 'bot.probe' | 'bot.malformed'
  action: Exclude<RuleAction, 'off'>
  reason: string
  status: number
}

interface Rule {
  kind: 'agent' | 'path' | 'contains'
  pattern: string
  action?: RuleAction
}

interface Matcher {
  re: RegExp
  action: RuleAction
}

const ACTIONS = new Set(['block', 'tarpit', 'log', 'off'])

export function parseRules(text: string, file: string): Rule[] {
  return meaningfulLines(text).map(({ line, n }) => {
    const m = /^(agent|path|contains)\s+(.+?)(?:\s+(block|tarpit|log|off))?$/.exec(line)
    if (!m) throw new Error(`${file}:${n}: expected 'agent|path|contains PATTERN [block|tarpit|log|off]', got ${JSON.stringify(line)}`)
    return { kind: m[1] as Rule['kind'], pattern: m[2]!, action: m[3] as RuleAction | undefined }
  })
}

const escape = (s: string) => s.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// One regular expression per kind and action: user agents (substrings), and paths, where prefix
// rules are an anchored alternative (`^(?:…)`, which fails at once anywhere but position 0) and
// substring rules another, in the same expression — one scan of the path per action.
function compile(rules: Rule[], s: BotSettings): { agents: Matcher[]; paths: Matcher[]; prefilter: Prefilter | undefined } {
  const groups = new Map<string, { agent: boolean; action: RuleAction; prefixes: string[]; substrings: string[] }>()
  // Every active probe rule's text, lowercased, for the prefilter (all actions together).
  const prefixes: string[] = []
  const substrings: string[] = []
  for (const r of rules) {
    const action = r.action ?? ((r.kind === 'agent' ? s.agentAction : s.probeAction) as RuleAction)
    if (action === 'off' || !ACTIONS.has(action)) continue
    const agent = r.kind === 'agent'
    const id = `${agent ? 'agent' : 'path'}:${action}`
    const g = groups.get(id) ?? { agent, action, prefixes: [], substrings: [] }
    ;(r.kind === 'path' ? g.prefixes : g.substrings).push(escape(r.pattern))
    groups.set(id, g)
    if (!agent) (r.kind === 'path' ? prefixes : substrings).push(r.pattern.toLowerCase())
  }
  const agents: Matcher[] = []
  const paths: Matcher[] = []
  // Block before tarpit before log, so the strongest matching action wins.
  const order = { block: 0, tarpit: 1, log: 2, off: 3 }
  for (const g of [...groups.values()].sort((a, b) => order[a.action] - order[b.action])) {
    const alternatives: string[] = []
    if (g.prefixes.length) alternatives.push(`^(?:${g.prefixes.join('|')})`)
    if (g.substrings.length) alternatives.push(g.substrings.join('|'))
    // Paths are matched case-insensitively by the expression itself ('i'), not by lowercasing
    // every request's path first (patterns are lowercased, so for ASCII the two are the same).
    ;(g.agent ? agents : paths).push({ re: new RegExp(alternatives.join('|'), g.agent ? '' : 'i'), action: g.action })
  }
  return { agents, paths, prefilter: prefixes.length + substrings.length ? prefilter(prefixes, substrings) : undefined }
}

// A path can only match a probe rule if it starts with the first three characters of a prefix
// rule, or holds the first two characters of a substring rule side by side. Two bit tables hold
// those, in every combination of upper and lower case (ASCII letters): most paths have none of
// them, and one pass over the path's characters, as they are, rules them out before the regular
// expression runs. Undefined (no prefilter) when a rule is too short or has a character outside
// ASCII, where case folding is not simply ASCII's.
interface Prefilter { starts: Uint32Array; pairs: Uint8Array }

/** `c` (a lowercased ASCII code) and its upper case when it is a letter. */
const cases = (c: number): number[] => (c >= 97 && c <= 122 ? [c, c - 32] : [c])

function prefilter(prefixes: string[], substrings: string[]): Prefilter | undefined {
  const ascii = /^[\x00-\x7f]*$/
  const starts = new Uint32Array(1 << 16) // 2^21 bits
  const pairs = new Uint8Array(1 << 14)
  for (const p of prefixes) {
    if (p.length < 3 || !ascii.test(p)) return undefined
    for (const a of cases(p.charCodeAt(0))) for (const b of cases(p.charCodeAt(1))) for (const c of cases(p.charCodeAt(2))) {
      const k = (a << 14) | (b << 7) | c
      starts[k >>> 5]! |= 1 << (k & 31)
    }
  }
  for (const p of substrings) {
    if (p.length < 2 || !ascii.test(p)) return undefined
    for (const a of cases(p.charCodeAt(0))) for (const b of cases(p.charCodeAt(1))) pairs[(a << 7) | b] = 1
  }
  return { starts, pairs }
}

/** Whether `path` may match a probe rule (see prefilter()), letters compared case-insensitively. */
function mayMatch(f: Prefilter, path: string): boolean {
  const n = path.length
  if (n < 2) return n === 1 && path.charCodeAt(0) > 127
  let prev = path.charCodeAt(0)
  let c = path.charCodeAt(1)
  // A character outside ASCII: let the regular expression decide.
  if (prev > 127 || c > 127) return true
  if (n >= 3) {
    const c2 = path.charCodeAt(2)
    const k = (prev << 14) | (c << 7) | c2
    if (c2 > 127 || (f.starts[k >>> 5]! & (1 << (k & 31))) !== 0) return true
  }
  if (f.pairs[(prev << 7) | c] === 1) return true
  for (let i = 2; i < n; i++) {
    prev = c
    c = path.charCodeAt(i)
    if (c > 127 || f.pairs[(prev << 7) | c] === 1) return true
  }
  return false
}

// A valid Host: a reg-name (RFC 3986: unreserved, sub-delims, pct-encoded) or a bracketed IPv6
// literal, then an optional port of 1-5 digits — i.e. the regular expression
//   /^[a-z0-9._~!$&'()*+,;=%-]+(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i
// as a loop over the characters, which costs a tenth of the regular expression per request.
const REG_NAME = new Uint8Array(128)
const IPV6 = new Uint8Array(128)
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~!$&'()*+,;=%-") REG_NAME[c.charCodeAt(0)] = 1
for (const c of '0123456789abcdefABCDEF:.') IPV6[c.charCodeAt(0)] = 1

export function validHost(h: string): boolean {
  const n = h.length
  let i = 0
  if (h.charCodeAt(0) === 91 /* [ */) {
    i = 1
    while (i < n && IPV6[h.charCodeAt(i)] === 1) i++
    if (i === 1 || h.charCodeAt(i) !== 93 /* ] */) return false
    i++
  } else {
    while (i < n && REG_NAME[h.charCodeAt(i)] === 1) i++
    if (i === 0) return false
  }
  if (i === n) return true
  if (h.charCodeAt(i) !== 58 /* : */ || n - i - 1 < 1 || n - i - 1 > 5) return false
  for (i++; i < n; i++) {
    const c = h.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** The length and eight characters spread over the string, mixed into a small integer. */
function fingerprint(s: string): number {
  const n = s.length
  let h = n
  for (let k = 1; k <= 8; k++) h = (Math.imul(h, 31) + s.charCodeAt(((n - 1) * k) >> 3)) | 0
  return h & 0x3fffffff
}

/** Slots of the user-agent verdict table (a power of two). */
const AGENT_SLOTS = 2048
/** Slots of the table of the last agent per length (a power of two). */
const LENGTH_SLOTS = 256

interface AgentVerdict { ua: string; verdict: Matcher | null }

export class BotRules {
  #s: BotSettings
  #files: WatchedFile[] = []
  #rules = new Map<string, Rule[]>()
  #agents: Matcher[] = []
  #paths: Matcher[] = []
  #prefilter: Prefilter | undefined
  #malformed: RuleAction
  // Real traffic carries few distinct user agents: remember each one's verdict. Keyed by a
  // fingerprint, not by the string: every request's user agent is a fresh string, and a Map keyed
  // by it would hash all of its ~100 characters each time. The fingerprint indexes a fixed table
  // directly (bounded by construction, no Map hashing): two agents that share a slot take turns in
  // it, still right, only slower.
  #agentCache: (AgentVerdict | undefined)[] = new Array(AGENT_SLOTS).fill(undefined)
  // In front of it, the last agent seen at each length (mod LENGTH_SLOTS): the few agents of real
  // traffic mostly differ in length, and an agent found here is one string compare, without the
  // eight characters the fingerprint reads.
  #agentByLength: (AgentVerdict | undefined)[] = new Array(LENGTH_SLOTS).fill(undefined)
  // The last Host that passed validHost(): nearly every request names the same host, and an equal
  // string is valid without walking its characters again.
  #lastValidHost = ''
  // The settings read per request, as fields (one load each, not two).
  #maxHeaderBytes: number
  #maxHeaders: number

  constructor(s: BotSettings, opts: { root: string; watch: WatchMode; pollInterval: number; log: (e: Record<string, unknown>) => void }) {
    this.#s = s
    this.#malformed = s.malformedAction as RuleAction
    this.#maxHeaderBytes = s.maxHeaderBytes
    this.#maxHeaders = s.maxHeaders
    const files = [...(s.defaultList ? [DEFAULT_BOT_RULES_FILE] : []), ...(s.files as string[]).map((f) => resolve(opts.root, f))]
    for (const path of files) {
      try {
        const wf = new WatchedFile(path, {
          mode: path === DEFAULT_BOT_RULES_FILE ? 'off' : opts.watch,
          pollInterval: opts.pollInterval,
          onChange: (text) => {
            this.#rules.set(path, parseRules(text, path))
            this.#build()
            opts.log({ level: 'info', msg: `firewall: reloaded ${path}`, rules: this.#rules.get(path)!.length })
          },
          onError: (e) => opts.log({ level: 'error', msg: `firewall: cannot reload ${path}: ${e.message}; keeping the previous rules` }),
        })
        this.#files.push(wf)
        this.#rules.set(path, parseRules(wf.text, path))
      } catch (e) {
        this.close()
        throw new ConfigError('firewall.bots.files', (e as Error).message)
      }
    }
    this.#build()
  }

  #build(): void {
    const c = compile([...this.#rules.values()].flat(), this.#s)
    this.#agents = c.agents
    this.#paths = c.paths
    this.#prefilter = c.prefilter
    this.#agentCache = new Array(AGENT_SLOTS).fill(undefined)
    this.#agentByLength = new Array(LENGTH_SLOTS).fill(undefined)
  }

  /** The first rule a request breaks, or undefined. Malformed requests are checked first. */
  check(req: FirewallRequest): BotHit | undefined {
    if (this.#malformed !== 'off') {
      const why = this.#malformedReason(req)
      if (why) return { rule: 'bot.malformed', action: this.#malformed as BotHit['action'], reason: why, status: 400 }
    }
    const ua = req.headers['user-agent']
    if (ua && this.#agents.length) {
      const byLength = this.#agentByLength[ua.length & (LENGTH_SLOTS - 1)]
      const m = byLength !== undefined && byLength.ua === ua ? byLength.verdict : this.#agentVerdict(ua)
      if (m) return this.#hit('bot.agent', m, `scanner user agent: ${ua.slice(0, 100)}`)
    }
    if (this.#paths.length && (this.#prefilter === undefined || mayMatch(this.#prefilter, req.path))) {
      const path = req.path
      for (const m of this.#paths) if (m.re.test(path)) return this.#hit('bot.probe', m, `probe path: ${req.path.slice(0, 200)}`)
    }
    return undefined
  }

  /** The first agent rule `ua` matches (null: none), from the fingerprint table or the rules. */
  #agentVerdict(ua: string): Matcher | null {
    const slot = fingerprint(ua) & (AGENT_SLOTS - 1)
    let cached = this.#agentCache[slot]
    if (cached === undefined || cached.ua !== ua) {
      const lc = ua.toLowerCase()
      cached = { ua, verdict: this.#agents.find((a) => a.re.test(lc)) ?? null }
      this.#agentCache[slot] = cached
    }
    this.#agentByLength[ua.length & (LENGTH_SLOTS - 1)] = cached
    return cached.verdict
  }

  #hit(rule: BotHit['rule'], m: Matcher, reason: string): BotHit {
    return { rule, action: m.action as BotHit['action'], reason, status: this.#s.blockStatus }
  }

  #malformedReason(req: FirewallRequest): string | undefined {
    const h = req.headers
    const host = h.host
    if (host === undefined || host === '') {
      if (req.httpVersion === '1.1' && h[':authority'] === undefined) return 'no Host header on HTTP/1.1'
    } else if (host !== this.#lastValidHost) {
      if (!validHost(host)) return 'invalid Host header'
      this.#lastValidHost = host
    }
    if (!(req.path.startsWith('/') || (req.path === '*' && req.method === 'OPTIONS'))) return 'request target is not a path'
    const max = this.#maxHeaderBytes
    const raw = req.rawHeaders
    if (raw !== undefined) {
      if (raw.length > 2 * this.#maxHeaders) return `more than ${this.#maxHeaders} headers`
      for (let i = 1; i < raw.length; i += 2) if (raw[i]!.length > max) return `header ${raw[i - 1]!.toLowerCase()} longer than ${max} bytes`
      return undefined
    }
    let count = 0
    for (const name in h) {
      count++
      const v = h[name]
      if (typeof v === 'string' ? v.length > max : Array.isArray(v) && v.some((x) => x.length > max)) return `header ${name} longer than ${max} bytes`
    }
    if (count > this.#maxHeaders) return `more than ${this.#maxHeaders} headers`
    return undefined
  }

  close(): void {
    for (const f of this.#files) f.close()
  }
}
