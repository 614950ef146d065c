// The journey's parts that live in the edge process: its tracer, the collector every layer reports
// to (fed in-process by the edge's own spans, over OTLP/HTTP by the app server's workers), and the
// dashboard. Built once when the edge starts listening; kept across reloads (the collector's
// traces must survive a config change).
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  createCollector, createDashboardHandler, createSampler, initJourney, isLoopbackAddress, resolveJourneySettings, shutdownJourney,
  type Collector, type DashboardHandler, type SamplerName, type CollectorHandler,
} from '../../journey/index.ts'
import type { EdgeContext } from '../context.ts'
import { sendError } from '../errors.ts'
import { loopbackOnly, whoamiAccess, type AccessCheck } from './authorize.ts'
import { resolveEdgeJourney, type EdgeJourneySettings } from './settings.ts'
import { EdgeTracer } from './trace.ts'

export interface EdgeJourneyInfo {
  /** The collector this edge hosts (undefined when `edge.journey.collector` is false). */
  collector: Collector | undefined
  /** Where the dashboard is mounted ('' = none). */
  dashboardPath: string
  /** The OTLP path on the edge's listeners ('' = none). */
  otlpPath: string
}

export class EdgeJourney implements EdgeJourneyInfo {
  readonly settings: EdgeJourneySettings
  readonly tracer: EdgeTracer
  readonly collector: Collector | undefined
  readonly dashboardPath: string
  readonly otlpPath: string
  #dashboard: DashboardHandler | undefined
  #otlp: CollectorHandler | undefined
  #access: AccessCheck
  #pending = new WeakMap<object, EdgeContext>()
  /** This edge configured the process's journey (and stops it on close). */
  #owner = false

  private constructor(settings: EdgeJourneySettings, journey: Record<string, unknown>, onError: (m: string, e?: unknown) => void) {
    this.settings = settings
    const j = resolveJourneySettings(journey)
    const hostCollector = settings.collector ?? j.collector
    if (hostCollector) {
      this.collector = createCollector({
        maxTraces: j.maxTraces, maxSpansPerTrace: j.maxSpansPerTrace, maxSpans: j.maxSpans,
        maxBodyBytes: j.maxBodySize, slowThresholdMs: j.slowThreshold, path: settings.otlpPath || '/v1/traces',
      })
      if (settings.otlpPath) this.#otlp = this.collector.handler
    }
    // The edge process reports its own spans: straight into its collector, else to
    // journey.otlpEndpoint. With neither, it leaves the process's journey as it is (another edge
    // in this process may host the collector; split topology in one process).
    if (this.collector || j.otlpEndpoint) {
      initJourney(j, { service: 'causeway-edge', collector: this.collector })
      this.#owner = true
    }
    this.tracer = new EdgeTracer({ sampler: createSampler(j.sampler as SamplerName, j.sampleRatio, j.samplePerSecond), traceResponse: settings.traceResponse })
    this.otlpPath = this.#otlp ? settings.otlpPath : ''
    this.#access = settings.authorizeUrl ? whoamiAccess(settings.authorizeUrl, settings.authorizeTimeout, onError) : loopbackOnly
    if (this.collector && settings.dashboard) {
      this.#dashboard = createDashboardHandler({
        collector: this.collector,
        basePath: settings.dashboard,
        authorize: (req) => {
          const ctx = this.#pending.get(req)
          return ctx ? this.#access({ clientAddress: ctx.clientAddress, headers: ctx.req.headers, scheme: ctx.scheme }) : false
        },
      })
    }
    this.dashboardPath = this.#dashboard ? settings.dashboard.replace(/\/+$/, '') : ''
  }

  /**
   * Builds the edge's journey from `edge.journey` and the `journey` section, or returns undefined
   * when either is off (then the edge costs nothing: no tracer, no collector, no paths).
   */
  static create(edgeJourney: unknown, journey: Record<string, unknown> | undefined, onError: (m: string, e?: unknown) => void): EdgeJourney | undefined {
    const s = resolveEdgeJourney(edgeJourney)
    if (!s.enabled) return undefined
    if (!resolveJourneySettings(journey ?? {}).enabled) return undefined
    return new EdgeJourney(s, journey ?? {}, onError)
  }

  /**
   * Answers the dashboard and the OTLP endpoint (neither is traced: the journey must not record
   * itself, and an export that made spans would feed itself). True when the request was theirs.
   */
  intercept(ctx: EdgeContext): boolean {
    const p = ctx.path
    if (this.#otlp !== undefined && p === this.otlpPath) {
      // Whoever can post here can fill the dashboard: the direct peer and the client it speaks
      // for must both be on this host.
      if (!isLoopbackAddress(ctx.peerAddress) || !isLoopbackAddress(ctx.clientAddress)) {
        sendError(ctx.res, 403, 'the OTLP endpoint accepts loopback clients only')
        return true
      }
      // The workers' span exports are internal traffic: no access-log line each (nginx's
      // `access_log off` on an internal location). Refused posts above are still logged.
      ctx.notes.accessLog = false
      return this.#otlp(ctx.req as IncomingMessage, ctx.res as ServerResponse)
    }
    const base = this.dashboardPath
    if (this.#dashboard !== undefined && p.startsWith(base) && (p.length === base.length || p.charCodeAt(base.length) === 47)) {
      this.#pending.set(ctx.req, ctx)
      return this.#dashboard(ctx.req as IncomingMessage, ctx.res as ServerResponse)
    }
    return false
  }

  /** The OTLP base URL for processes on this host, given a plain-HTTP listener's address. */
  otlpEndpoint(listenerHost: string, port: number): string | undefined {
    if (!this.otlpPath) return undefined
    const host = listenerHost === '0.0.0.0' || listenerHost === '' ? '127.0.0.1' : listenerHost === '::' ? '[::1]' : listenerHost.includes(':') ? `[${listenerHost}]` : listenerHost
    const base = this.otlpPath.endsWith('/v1/traces') ? this.otlpPath.slice(0, -'/v1/traces'.length) : this.otlpPath
    return `http://${host}:${port}${base}`
  }

  async close(): Promise<void> {
    if (this.#owner) await shutdownJourney()
  }
}
