// The edge engine: listeners feed every request through the stages, each in its own file —
// identify client → match route → firewall → body limit → filters → action → log. Config is
// validated and compiled before listening; reload() swaps in a new generation without touching
// connections (listeners whose settings did not change stay open).
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { ServerResponse } from 'node:http'
import { ConfigError } from '../errors.ts'
import type { Firewall, FirewallRequest } from '../firewall/contract.ts'
import type { EdgeAction, EdgeContext, EdgeRequest, EdgeResponse } from './context.ts'
import { validateEdgeConfig } from './config/validate.ts'
import { sendError } from './errors.ts'
import { buildGeneration, closeGeneration, type ActionFactory, type Generation } from './generation.ts'
import { Listener, type ListenerAddress } from './listeners/listener.ts'
import { matchRoute } from './routes/matcher.ts'
import { enforceBodyLimit } from './stages/body-limit.ts'
import { firewallRequest, firewallStage, observeResponse } from './stages/firewall.ts'
import { canonicalPeer, identify } from './stages/identify.ts'
import { peerAddressOf } from '../net/proxy-accept.ts'
import { stripInternalHeaders } from './filters/strip-internal.ts'
import { redirectToHttps } from './stages/https-redirect.ts'
import { ProxyPools, validateProxyRoutes } from './actions/proxy.ts'
import { EdgeJourney, type EdgeJourneyInfo } from './journey/mount.ts'
import { resolveEdgeJourney } from './journey/settings.ts'
import { journeyEnabled, resolveJourneySettings } from '../journey/index.ts'
import { actionStart, firewallEnd, routeEnd, stageStart, traceEnd } from './journey/trace.ts'

/** The config sections the edge reads. */
export interface EdgeConfigInput {
  edge?: Record<string, unknown>
  firewall?: Record<string, unknown>
  /** The `journey` section (sampling, export, collector sizes); `edge.journey` says what the edge does with it. */
  journey?: Record<string, unknown>
}

/** The edge's journey parts, for the process that starts the workers (`causeway up`). */
export interface EdgeJourneyState extends EdgeJourneyInfo {
  /** OTLP base URL for processes on this host (give it to workers as OTEL_EXPORTER_OTLP_ENDPOINT);
   *  undefined without a plain-HTTP listener that does not redirect, or without `otlpPath`. */
  otlpEndpoint: string | undefined
}

export interface EdgeOptions {
  /** Project directory relative paths resolve against (default: cwd). */
  root?: string
  /** Extra or replacement action factories by name (`proxy` defaults to src/edge/proxy). */
  actions?: Record<string, ActionFactory>
  /** Use this firewall instead of building one from the `firewall` section. */
  firewall?: Firewall
  /** Where access-log lines go instead of the configured path (tests). */
  accessLogStream?: NodeJS.WritableStream
  /** Error reporting (default: console.error). */
  onError?: (message: string, error?: unknown) => void
}

export interface Edge {
  listen(): Promise<void>
  /** Validates and applies a new config; on error throws and keeps the old one running. */
  reload(config: EdgeConfigInput): Promise<void>
  close(): Promise<void>
  readonly addresses: ListenerAddress[]
  /** Present once listening when the journey is on (the `journey` section and `edge.journey`). */
  readonly journey: EdgeJourneyState | undefined
}

type FirewallFactory = (config: Record<string, unknown>, opts: { root: string }) => Firewall | Promise<Firewall>

async function loadFirewallFactory(): Promise<FirewallFactory> {
  // Loaded lazily: an edge without a `firewall` section never pays for it (nor for ioredis).
  const mod = await import('../firewall/index.ts')
  return mod.createFirewall
}

class EdgeEngine implements Edge {
  #root: string
  #opts: EdgeOptions
  #input: EdgeConfigInput
  #settings: ReturnType<typeof validateEdgeConfig>
  #gen: Generation | undefined
  #listeners = new Map<string, Listener>()
  /** The firewall this engine built (never one passed in options); closed when replaced or on close. */
  #firewall: Firewall | null = null
  #firewallJson = ''
  #pools = new ProxyPools()
  #closed = false
  /** Built at listen() from the first config and kept across reloads (the traces must survive). */
  #journey: EdgeJourney | undefined

  constructor(config: EdgeConfigInput, opts: EdgeOptions) {
    this.#root = opts.root ?? process.cwd()
    this.#opts = opts
    this.#input = config
    this.#settings = this.#validate(config)
  }

  #kinds(): string[] {
    return ['static', 'proxy', 'redirect', 'respond', ...Object.keys(this.#opts.actions ?? {})]
  }

  #validate(config: EdgeConfigInput): ReturnType<typeof validateEdgeConfig> {
    if (config.firewall !== undefined && (typeof config.firewall !== 'object' || config.firewall === null)) {
      throw new ConfigError('firewall', 'expected an object')
    }
    const settings = validateEdgeConfig(config.edge ?? {}, this.#root, [...new Set(this.#kinds())])
    // Both journey sections are checked up front, so a bad key fails createEdge, not listen().
    resolveEdgeJourney((config.edge ?? {}).journey)
    if (config.journey !== undefined) resolveJourneySettings(config.journey)
    if (!this.#opts.actions?.proxy) validateProxyRoutes((config.edge ?? {}).upstreams, (config.edge ?? {}).cache, settings.routes)
    return settings
  }

  async #build(config: EdgeConfigInput, settings: ReturnType<typeof validateEdgeConfig>): Promise<{ gen: Generation; firewall: Firewall | null; fwJson: string }> {
    const factories: Record<string, ActionFactory> = { ...this.#opts.actions }
    if (!factories.proxy) {
      await this.#pools.apply((config.edge ?? {}).upstreams, (config.edge ?? {}).cache)
      factories.proxy = this.#pools.factory()
    }
    // The firewall keeps its state (bans, counters) across reloads unless its section changed.
    const fwJson = JSON.stringify(config.firewall ?? null)
    let firewall: Firewall | null = this.#opts.firewall ?? null
    if (!firewall && config.firewall) {
      firewall = this.#firewall && fwJson === this.#firewallJson
        ? this.#firewall
        : await (await loadFirewallFactory())(config.firewall, { root: this.#root })
    }
    try {
      const gen = await buildGeneration(settings, (config.edge ?? {}) as Record<string, unknown>, factories, firewall, this.#opts.accessLogStream)
      return { gen, firewall, fwJson }
    } catch (e) {
      if (firewall && firewall !== this.#firewall && firewall !== this.#opts.firewall) await firewall.close()
      throw e
    }
  }

  async listen(): Promise<void> {
    if (this.#gen) throw new Error('edge: listen() called twice')
    const b = await this.#build(this.#input, this.#settings)
    this.#gen = b.gen
    this.#journey = EdgeJourney.create((this.#input.edge ?? {}).journey, this.#input.journey, this.#opts.onError ?? ((m, e) => console.error(m, e)))
    this.#adoptFirewall(b.firewall, b.fwJson, null)
    try {
      for (const l of this.#settings.listen) await this.#open(l)
    } catch (e) {
      await this.close()
      throw e
    }
  }

  /** Records the firewall in use; a replaced one is closed once the old generation is idle. */
  #adoptFirewall(fw: Firewall | null, json: string, prev: Generation | null): void {
    const own = fw && fw !== this.#opts.firewall ? fw : null
    if (this.#firewall && this.#firewall !== own && prev) {
      const old = this.#firewall
      prev.cleanups.push(() => old.close())
    }
    this.#firewall = own
    this.#firewallJson = json
  }

  async #open(l: ReturnType<typeof validateEdgeConfig>['listen'][number]): Promise<void> {
    const listener = new Listener(l, this.#settings, {
      request: (req, res, lis, expectContinue) => this.#handle(req, res, lis, expectContinue),
      connection: (sock) => this.#connection(sock),
      upgrade: (req, sock, head, lis) => this.#upgrade(req, sock, head, lis),
    })
    await listener.listen()
    this.#listeners.set(l.key, listener)
  }

  #connection(sock: Socket): boolean {
    const fw = this.#gen?.firewall
    if (!fw) return true
    const r = fw.connect(canonicalPeer(peerAddressOf(sock) ?? ''))
    if (typeof r !== 'function') return false
    sock.once('close', r)
    return true
  }

  #handle(req: EdgeRequest, res: EdgeResponse, listener: Listener, expectContinue = false): void {
    const gen = this.#gen!
    const s = gen.settings
    const id = identify(req, res, {
      trustedProxies: s.trustedProxies,
      scheme: listener.secure ? 'https' : 'http',
      fallbackHost: listener.settings.host,
      proxyProtocol: listener.settings.proxyProtocol,
    })
    if (typeof id === 'string') {
      res.setHeader('connection', 'close')
      sendError(res, 400, id)
      return
    }
    const ctx = id
    res.setHeader('x-request-id', ctx.requestId)
    listener.requestStarted(req, res)
    gen.inflight++
    // The firewall must see the same FirewallRequest object in decide() and observe(): it keys
    // what it answered itself by identity.
    let freq: FirewallRequest | undefined
    res.on('close', () => this.#finished(gen, ctx, listener, freq))

    const redirect = listener.settings.redirectToHttps
    if (redirect) {
      redirectToHttps(ctx, redirect)
      return
    }
    const journey = this.#journey
    if (journey !== undefined) {
      if (journey.intercept(ctx)) return
      if (journeyEnabled()) journey.tracer.begin(ctx, s.trustedProxies.has(ctx.peerAddress))
    }
    const routeSpan = stageStart(ctx, 'route')
    const route = matchRoute(gen.routes, ctx)
    if (route) ctx.route = { name: route.name, index: route.index }
    routeEnd(ctx, routeSpan)
    if (gen.firewall) freq = firewallRequest(ctx)
    const limit = route?.maxBodySize ?? s.limits.maxBodySize
    if (limit > 0 && !enforceBodyLimit(ctx, limit)) return
    if (gen.firewall) {
      const fwSpan = stageStart(ctx, 'firewall')
      const ok = firewallStage(gen.firewall, ctx, freq!)
      if (ok === false) { firewallEnd(ctx, fwSpan, false); return }
      if (ok !== true) {
        ok.then((go) => {
          firewallEnd(ctx, fwSpan, go)
          if (go) this.#act(gen, ctx, route?.action, route?.upstream ?? false, expectContinue)
        }, (e) => { firewallEnd(ctx, fwSpan, false, e); this.#fail(ctx, e) })
        return
      }
      firewallEnd(ctx, fwSpan, true)
    }
    this.#act(gen, ctx, route?.action, route?.upstream ?? false, expectContinue)
  }

  #act(gen: Generation, ctx: EdgeContext, action: EdgeAction | undefined, upstream: boolean, expectContinue = false): void {
    if (expectContinue && action) (ctx.res as { writeContinue(): void }).writeContinue()
    if (!action) {
      sendError(ctx.res, 404, undefined, undefined, ctx.req.method === 'HEAD')
      return
    }
    if (upstream && action.stripsInternal !== true) stripInternalHeaders(ctx)
    if (gen.compress !== null && action.compresses !== true) gen.compress(ctx)
    actionStart(ctx, action.kind)
    try {
      const p = action.handle(ctx)
      if (p) p.catch((e) => this.#fail(ctx, e))
    } catch (e) {
      this.#fail(ctx, e)
    }
  }

  #fail(ctx: EdgeContext, e: unknown): void {
    ;(this.#opts.onError ?? ((m, err) => console.error(m, err)))(`edge: request ${ctx.requestId} failed in route ${ctx.route?.name ?? '-'}`, e)
    sendError(ctx.res, 500, this.#gen?.settings.production === false ? String((e as Error)?.message ?? e) : undefined)
  }

  #finished(gen: Generation, ctx: EdgeContext, listener: Listener, freq: FirewallRequest | undefined): void {
    listener.requestFinished(ctx.req)
    if (gen.firewall && freq) {
      try {
        observeResponse(gen.firewall, ctx, freq)
      } catch (e) {
        this.#opts.onError?.('edge: firewall observe failed', e)
      }
    }
    traceEnd(ctx)
    gen.log.log(ctx)
    gen.inflight--
    if (gen.retired && gen.inflight === 0) void closeGeneration(gen)
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer, listener: Listener): void {
    const gen = this.#gen!
    const res = new ServerResponse(req)
    const id = identify(req, res, { trustedProxies: gen.settings.trustedProxies, scheme: listener.secure ? 'https' : 'http', fallbackHost: listener.settings.host, proxyProtocol: listener.settings.proxyProtocol })
    const route = typeof id === 'string' ? undefined : matchRoute(gen.routes, id)
    const action = route?.action
    if (typeof id === 'string' || !action?.upgrade || listener.settings.redirectToHttps) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    id.route = { name: route!.name, index: route!.index }
    const go = () => Promise.resolve(action.upgrade!(id, socket, head)).catch((e) => {
      this.#opts.onError?.('edge: upgrade failed', e)
      socket.destroy()
    })
    if (!gen.firewall) { void go(); return }
    Promise.resolve(gen.firewall.decide(firewallRequest(id))).then((d) => {
      if (d.action === 'allow' || d.action === 'delay') void go()
      else socket.end(`HTTP/1.1 ${d.status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }, () => socket.destroy())
  }

  async reload(config: EdgeConfigInput): Promise<void> {
    if (this.#closed) throw new Error('edge: closed')
    const settings = this.#validate(config)
    const { gen, firewall, fwJson } = await this.#build(config, settings)
    // Open new listeners first: if a port is taken, the old config stays in force.
    const wanted = new Map(settings.listen.map((l) => [l.key, l]))
    const opened: string[] = []
    const old = this.#settings
    this.#settings = settings
    try {
      for (const [key, l] of wanted) {
        if (!this.#listeners.has(key)) { await this.#open(l); opened.push(key) }
      }
      for (const [key, l] of wanted) if (!opened.includes(key)) this.#listeners.get(key)!.updateTls(l, settings)
    } catch (e) {
      this.#settings = old
      for (const k of opened) { await this.#listeners.get(k)?.close(0); this.#listeners.delete(k) }
      await closeGeneration(gen)
      if (firewall && firewall !== this.#firewall && firewall !== this.#opts.firewall) await firewall.close()
      throw e
    }
    const prev = this.#gen!
    this.#gen = gen
    this.#input = config
    this.#adoptFirewall(firewall, fwJson, prev)
    prev.retired = true
    if (prev.inflight === 0) void closeGeneration(prev)
    for (const [key, l] of this.#listeners) {
      if (!wanted.has(key)) {
        this.#listeners.delete(key)
        void l.close(settings.limits.shutdownTimeout)
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const timeout = this.#settings.limits.shutdownTimeout
    await Promise.all([...this.#listeners.values()].map((l) => l.close(timeout)))
    this.#listeners.clear()
    if (this.#gen) await closeGeneration(this.#gen)
    if (this.#firewall) await this.#firewall.close()
    await this.#pools.close()
    await this.#journey?.close()
  }

  get addresses(): ListenerAddress[] {
    return [...this.#listeners.values()].map((l) => l.address)
  }

  get journey(): EdgeJourneyState | undefined {
    const j = this.#journey
    if (j === undefined) return undefined
    const plain = [...this.#listeners.values()].find((l) => !l.secure && !l.settings.redirectToHttps)
    return {
      collector: j.collector,
      dashboardPath: j.dashboardPath,
      otlpPath: j.otlpPath,
      otlpEndpoint: plain ? j.otlpEndpoint(plain.address.host, plain.address.port) : undefined,
    }
  }
}

/**
 * Builds the edge from the `edge` (and `firewall`) config sections; throws a ConfigError naming
 * the key when the config is bad. Nothing listens until `listen()`.
 * @example
 *   const edge = createEdge({ edge: { listen: [{ port: 0 }], routes: [{ match: { pathPrefix: '/static/' }, action: { static: { root: 'public' } } }] } })
 *   await edge.listen(); console.log(edge.addresses[0].url)
 */
export function createEdge(config: EdgeConfigInput, opts: EdgeOptions = {}): Edge {
  return new EdgeEngine(config, opts)
}
