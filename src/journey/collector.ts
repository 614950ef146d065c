// The built-in collector: keeps the most recent traces in memory, bounded by trace count and total
// span count, assembling spans that arrive from several processes by trace id. Spans come in as
// OTLP/HTTP JSON or Causeway's compact encoding (collector-http.ts), or in-process through
// sink(). Queries feed the dashboard.
import { EventEmitter } from 'node:events'
import { collectLocalSpans, decodeOtlpTraces, type CollectedSpan } from './otlp-decode.ts'
import { decodeCompactSpans } from './compact-spans.ts'
import { buildTree, type TraceTree } from './tree.ts'
import type { Attributes, SpanData } from './span.ts'
import type { SpanSink } from './tracer.ts'
import { createCollectorHandler, type CollectorHandler } from './collector-http.ts'

export interface CollectorOptions {
  /** Traces kept; the least recently updated is evicted first. Default 1000. */
  maxTraces?: number
  /** Spans kept per trace; more are dropped and counted. Default 2000. */
  maxSpansPerTrace?: number
  /** Spans kept across all traces. Default 100000. */
  maxSpans?: number
  /** Largest accepted request body (after gunzip). Default 4 MiB. */
  maxBodyBytes?: number
  /** Requests at least this slow (root span, ms) are "slow". Default 500. */
  slowThresholdMs?: number
  /** The OTLP path the HTTP handler answers. Default '/v1/traces'. */
  path?: string
}

/** One row of the dashboard's list. */
export interface TraceSummary {
  traceId: string
  name: string
  service: string
  method?: string
  path?: string
  status?: number
  startMs: number
  durationMs: number
  spanCount: number
  services: string[]
  errors: number
}

/** Narrows recent()/slow(): every given field must match. */
export interface TraceFilter {
  /** Exact `url.path` of the root span. */
  path?: string
  /** Some span of the trace comes from this service. */
  service?: string
  /** The root's HTTP status. */
  status?: number
  /** Only traces with at least one error span. */
  errors?: boolean
}

function matches(s: TraceSummary, f: TraceFilter | undefined): boolean {
  if (f === undefined) return true
  return (f.path === undefined || s.path === f.path) &&
    (f.service === undefined || s.services.includes(f.service)) &&
    (f.status === undefined || s.status === f.status) &&
    (f.errors === undefined || (s.errors > 0) === f.errors)
}

export interface CollectorStats {
  traces: number
  spans: number
  evictedTraces: number
  droppedSpans: number
  rejectedRequests: number
}

class TraceRecord {
  readonly spans = new Map<string, CollectedSpan>()
  errors = 0
  #summary: TraceSummary | undefined
  constructor(readonly traceId: string) {}

  add(span: CollectedSpan): void {
    const prev = this.spans.get(span.spanId)
    if (prev?.status.code === 'error') this.errors--
    this.spans.set(span.spanId, span)
    if (span.status.code === 'error') this.errors++
    this.#summary = undefined
  }

  /** The request's root: the span without a parent, else the earliest whose parent is absent. */
  root(): CollectedSpan {
    let best: CollectedSpan | undefined
    let bestRank = 3
    for (const s of this.spans.values()) {
      const rank = s.parentSpanId === undefined ? 0 : this.spans.has(s.parentSpanId) ? 2 : 1
      if (rank < bestRank || (rank === bestRank && s.startMs < best!.startMs)) {
        best = s
        bestRank = rank
      }
    }
    return best!
  }

  summary(): TraceSummary {
    if (this.#summary) return this.#summary
    const root = this.root()
    const a = root.attributes
    const services = new Set<string>()
    for (const s of this.spans.values()) services.add(s.service)
    const method = a['http.request.method'] ?? a['http.method']
    const path = a['url.path'] ?? a['http.target'] ?? a['http.route']
    const status = a['http.response.status_code'] ?? a['http.status_code']
    this.#summary = {
      traceId: this.traceId,
      name: root.name,
      service: root.service,
      method: typeof method === 'string' ? method : undefined,
      path: typeof path === 'string' ? path : undefined,
      status: typeof status === 'number' ? status : typeof status === 'string' && /^\d{3}$/.test(status) ? Number(status) : undefined,
      startMs: root.startMs,
      durationMs: root.durationMs,
      spanCount: this.spans.size,
      services: [...services],
      errors: this.errors,
    }
    return this.#summary
  }
}

/**
 * Holds recent traces and answers the dashboard's questions.
 * @example
 * const collector = createCollector({ maxTraces: 500 })
 * http.createServer(collector.listener).listen(4318)   // OTLP/HTTP JSON on POST /v1/traces
 */
export class Collector extends EventEmitter {
  readonly options: Required<CollectorOptions>
  #traces = new Map<string, TraceRecord>()
  #spanTotal = 0
  #stats = { evictedTraces: 0, droppedSpans: 0, rejectedRequests: 0 }
  /** node:http handler for OTLP posts: answers and returns true when the path is the OTLP path. */
  readonly handler: CollectorHandler
  /** A complete request listener: the OTLP path, 404 for anything else. */
  readonly listener: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void

  constructor(options: CollectorOptions = {}) {
    super()
    this.options = {
      maxTraces: options.maxTraces ?? 1000,
      maxSpansPerTrace: options.maxSpansPerTrace ?? 2000,
      maxSpans: options.maxSpans ?? 100_000,
      maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
      slowThresholdMs: options.slowThresholdMs ?? 500,
      path: options.path ?? '/v1/traces',
    }
    for (const k of ['maxTraces', 'maxSpansPerTrace', 'maxSpans', 'maxBodyBytes'] as const) {
      if (!(Number.isInteger(this.options[k]) && this.options[k] > 0)) throw new RangeError(`collector ${k} must be a positive integer`)
    }
    this.handler = createCollectorHandler(this)
    this.listener = (req, res) => {
      if (!this.handler(req, res)) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`not found: the collector accepts POST ${this.options.path}\n`)
      }
    }
  }

  /** Validates a parsed OTLP JSON body and stores its spans (throws OtlpDecodeError when bad). */
  ingest(body: unknown): { accepted: number; rejected: number } {
    return this.add(decodeOtlpTraces(body))
  }

  /** Validates a parsed compact body (compact-spans.ts: from Causeway's own exporters) and stores its spans. */
  ingestCompact(body: unknown): { accepted: number; rejected: number } {
    return this.add(decodeCompactSpans(body))
  }

  /** Stores already-decoded spans. */
  add(spans: CollectedSpan[]): { accepted: number; rejected: number } {
    let accepted = 0
    // Only waitForSpans() listens; without a listener there is nothing to collect for it.
    const touched = this.listenerCount('spans') > 0 ? new Set<string>() : undefined
    // A batch holds a trace's spans one after another: the previous span's record, when it is the
    // same trace, is already the most recent one (no lookup, no re-insert).
    let last: TraceRecord | undefined
    for (const s of spans) {
      let rec = last !== undefined && last.traceId === s.traceId ? last : this.#traces.get(s.traceId)
      if (rec === undefined) {
        rec = new TraceRecord(s.traceId)
        this.#traces.set(s.traceId, rec)
      } else if (rec !== last) {
        // Re-insert: a trace still receiving spans is "recent" and must not be evicted first.
        this.#traces.delete(s.traceId)
        this.#traces.set(s.traceId, rec)
      }
      last = rec
      if (!rec.spans.has(s.spanId) && rec.spans.size >= this.options.maxSpansPerTrace) {
        this.#stats.droppedSpans++
        continue
      }
      if (!rec.spans.has(s.spanId)) this.#spanTotal++
      rec.add(s)
      touched?.add(s.traceId)
      accepted++
    }
    this.#evict()
    if (touched !== undefined && touched.size > 0) this.emit('spans', [...touched])
    return { accepted, rejected: spans.length - accepted }
  }

  #evict(): void {
    while (this.#traces.size > this.options.maxTraces || (this.#spanTotal > this.options.maxSpans && this.#traces.size > 1)) {
      const [oldest, rec] = this.#traces.entries().next().value as [string, TraceRecord]
      this.#traces.delete(oldest)
      this.#spanTotal -= rec.spans.size
      this.#stats.evictedTraces++
    }
  }

  /** @internal counted by the HTTP handler */
  countRejected(): void {
    this.#stats.rejectedRequests++
  }

  /**
   * A sink for the process that hosts the collector: spans skip HTTP. export() only queues;
   * they are stored on the next turn of the event loop, off the request path.
   */
  sink(resource: Attributes, maxQueue = 4096): SpanSink & { dropped: number } {
    let queue: SpanData[] = []
    let scheduled: NodeJS.Immediate | undefined
    const drain = () => {
      scheduled = undefined
      const batch = queue
      queue = []
      if (batch.length === 0) return
      try {
        // Straight into the collector's shape: the same spans as an OTLP export of them would
        // give, without building and validating the OTLP objects in between.
        this.add(collectLocalSpans(resource, 'causeway.journey', batch))
      } catch {
        // Runs from setImmediate: a throw here would take the whole process down.
        sink.dropped += batch.length
      }
    }
    const sink = {
      dropped: 0,
      export(span: SpanData) {
        if (queue.length >= maxQueue) {
          sink.dropped++
          return
        }
        queue.push(span)
        scheduled ??= setImmediate(drain)
      },
      async flush() {
        if (scheduled) clearImmediate(scheduled)
        drain()
      },
      async shutdown() {
        await sink.flush()
      },
    }
    return sink
  }

  /** Most recent first (by root start time). */
  recent(limit = 50, filter?: TraceFilter): TraceSummary[] {
    const all = [...this.#traces.values()].map((t) => t.summary()).filter((s) => matches(s, filter))
    all.sort((a, b) => b.startMs - a.startMs)
    return all.slice(0, limit)
  }

  /** Slowest first, only roots at least `thresholdMs` long. */
  slow(limit = 50, thresholdMs = this.options.slowThresholdMs, filter?: TraceFilter): TraceSummary[] {
    const all = [...this.#traces.values()].map((t) => t.summary()).filter((s) => s.durationMs >= thresholdMs && matches(s, filter))
    all.sort((a, b) => b.durationMs - a.durationMs)
    return all.slice(0, limit)
  }

  summary(traceId: string): TraceSummary | undefined {
    return this.#traces.get(traceId.toLowerCase())?.summary()
  }

  /** One trace's spans (unordered), or undefined when unknown or evicted. */
  spans(traceId: string): CollectedSpan[] | undefined {
    const rec = this.#traces.get(traceId.toLowerCase())
    return rec ? [...rec.spans.values()] : undefined
  }

  /** One trace as a tree with waterfall rows. */
  tree(traceId: string): TraceTree | undefined {
    const rec = this.#traces.get(traceId.toLowerCase())
    return rec ? buildTree(rec.traceId, rec.spans.values()) : undefined
  }

  /** Resolves once `traceId` holds at least `count` spans (tests, tools). Rejects after `timeoutMs`. */
  waitForSpans(traceId: string, count: number, timeoutMs = 10_000): Promise<CollectedSpan[]> {
    const have = () => this.#traces.get(traceId)?.spans.size ?? 0
    if (have() >= count) return Promise.resolve(this.spans(traceId)!)
    return new Promise((resolve, reject) => {
      const onSpans = () => {
        if (have() >= count) {
          cleanup()
          resolve(this.spans(traceId)!)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`trace ${traceId}: ${have()} of ${count} spans after ${timeoutMs} ms`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.off('spans', onSpans)
      }
      this.on('spans', onSpans)
    })
  }

  stats(): CollectorStats {
    return { traces: this.#traces.size, spans: this.#spanTotal, ...this.#stats }
  }

  clear(): void {
    this.#traces.clear()
    this.#spanTotal = 0
  }
}

/** @example const collector = createCollector({ maxTraces: 1000 }) */
export function createCollector(options?: CollectorOptions): Collector {
  return new Collector(options)
}
