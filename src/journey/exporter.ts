// Sinks for finished spans. The OTLP/HTTP exporter batches spans off the request path: export()
// only pushes onto a bounded queue (dropping and counting when it is full, never blocking), a
// timer or a full batch triggers a send, and shutdown() sends what is left. It sends OTLP JSON
// until the receiver's answer offers Causeway's compact encoding (Accept-Post, which Causeway's
// collector sends: `causeway up` workers → the edge), then that while the answers keep offering
// it; a receiver that refuses it (415) gets the batch again as OTLP JSON.
import http from 'node:http'
import https from 'node:https'
import { encodeTracesJson } from './otlp.ts'
import { COMPACT_SPANS_TYPE, encodeCompactSpans } from './compact-spans.ts'
import type { Attributes, SpanData } from './span.ts'
import type { SpanSink } from './tracer.ts'

export interface OtlpExporterOptions {
  /** Base URL (`http://127.0.0.1:4318`, `/v1/traces` is appended) or the full traces URL. */
  endpoint: string
  /** Resource attributes; `service.name` names the process in the waterfall. */
  resource: Attributes
  /** Spans held at most; more are dropped and counted. Default 2048. */
  maxQueue?: number
  /** Spans per request. Default 512. */
  maxBatch?: number
  /** How long a span may wait before it is sent. Default 1000 ms. */
  flushIntervalMs?: number
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number
  /** Extra request headers (an API key for a hosted backend). */
  headers?: Record<string, string>
  /** Told about failed sends (default: silent; stats() counts them). */
  onError?: (error: Error) => void
}

export interface ExporterStats {
  queued: number
  exported: number
  dropped: number
  failed: number
  requests: number
}

/** Appends OTLP's `/v1/traces` to a base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is defined. */
export function tracesUrl(endpoint: string): URL {
  const url = new URL(endpoint)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`OTLP endpoint must be http(s): ${endpoint}`)
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`
  return url
}

/**
 * Sends spans as OTLP/HTTP JSON to a collector (Causeway's, Jaeger, Tempo, the OTel Collector).
 * @example new OtlpHttpExporter({ endpoint: 'http://127.0.0.1:4318', resource: { 'service.name': 'causeway-worker' } })
 */
export class OtlpHttpExporter implements SpanSink {
  readonly url: URL
  #resource: Attributes
  #queue: SpanData[] = []
  #maxQueue: number
  #maxBatch: number
  #interval: number
  #timeout: number
  #headers: Record<string, string>
  #onError: ((e: Error) => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #chain: Promise<void> = Promise.resolve()
  #draining = false
  #closed = false
  #agent: http.Agent
  /** The receiver has offered the compact encoding. */
  #compact = false
  #stats = { exported: 0, dropped: 0, failed: 0, requests: 0 }

  constructor(options: OtlpExporterOptions) {
    this.url = tracesUrl(options.endpoint)
    this.#resource = { ...options.resource }
    this.#maxQueue = options.maxQueue ?? 2048
    this.#maxBatch = options.maxBatch ?? 512
    this.#interval = options.flushIntervalMs ?? 1000
    this.#timeout = options.timeoutMs ?? 10_000
    this.#headers = options.headers ?? {}
    this.#onError = options.onError
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent
    this.#agent = new Agent({ keepAlive: true, maxSockets: 2 })
  }

  export(span: SpanData): void {
    if (this.#closed || this.#queue.length >= this.#maxQueue) {
      this.#stats.dropped++
      return
    }
    this.#queue.push(span)
    if (this.#queue.length >= this.#maxBatch) {
      // A full batch is sent on a later turn of the event loop, never inside the request that
      // happened to end the last span (encoding a batch takes a while).
      if (!this.#draining && this.#immediate === undefined) {
        this.#immediate = setImmediate(() => {
          this.#immediate = undefined
          void this.flush()
        })
      }
    } else if (this.#timer === undefined) {
      // Unref'd: a pending flush must not keep a finished process alive (shutdown() flushes).
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        void this.flush()
      }, this.#interval)
      this.#timer.unref()
    }
  }

  /** Sends everything queued; resolves when those requests are answered (or failed). */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#immediate !== undefined) {
      clearImmediate(this.#immediate)
      this.#immediate = undefined
    }
    this.#draining = true
    this.#chain = this.#chain.then(() => this.#drain())
    return this.#chain
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch)
        try {
          await this.#send(batch)
          this.#stats.exported += batch.length
        } catch (e) {
          this.#stats.failed += batch.length
          this.#onError?.(e as Error)
        }
      }
    } finally {
      this.#draining = false
    }
  }

  async #send(batch: SpanData[]): Promise<void> {
    if (this.#compact) {
      const status = await this.#post(Buffer.from(encodeCompactSpans(this.#resource, batch)), COMPACT_SPANS_TYPE)
      if (status !== 415) return
      this.#compact = false
    }
    await this.#post(Buffer.from(encodeTracesJson(this.#resource, batch)), 'application/json')
  }

  /** One POST; resolves with a 2xx status or 415 to a compact body, rejects otherwise. */
  #post(body: Buffer, type: string): Promise<number> {
    this.#stats.requests++
    const mod = this.url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const req = mod.request(this.url, {
        method: 'POST',
        agent: this.#agent,
        timeout: this.#timeout,
        headers: { ...this.#headers, 'content-type': type, 'content-length': body.length },
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => { if (chunks.length < 16) chunks.push(c) })
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) {
            // The latest answer decides: a receiver replaced by one that does not offer it (a
            // proxy in front of another collector) gets OTLP JSON from the next batch on.
            this.#compact = res.headers['accept-post']?.includes(COMPACT_SPANS_TYPE) === true
            resolve(status)
          } else if (status === 415 && type === COMPACT_SPANS_TYPE) {
            resolve(status)
          } else reject(new Error(`OTLP export to ${this.url.href} answered ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`))
        })
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`OTLP export to ${this.url.href} timed out after ${this.#timeout} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return this.#chain
    await this.flush()
    this.#closed = true
    this.#agent.destroy()
  }

  stats(): ExporterStats {
    return { queued: this.#queue.length, ...this.#stats }
  }
}

/** Keeps finished spans in memory (tests, embedded use). Bounded: the oldest are dropped. */
export class MemorySink implements SpanSink {
  readonly spans: SpanData[] = []
  #max: number
  dropped = 0
  constructor(max = 10_000) {
    this.#max = max
  }
  export(span: SpanData): void {
    if (this.spans.length >= this.#max) {
      this.spans.shift()
      this.dropped++
    }
    this.spans.push(span)
  }
  clear(): void {
    this.spans.length = 0
  }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
