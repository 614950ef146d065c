// The recorded span: OpenTelemetry's data model, held as plain fields until export. Times are
// unix epoch milliseconds as doubles (sub-microsecond precision at today's epoch); they become
// nanosecond strings only when encoded for OTLP.
//
// Clock: each local trace anchors to the wall clock once (Date.now() when its first span here
// starts) and measures everything after with the monotonic clock. Durations never go backwards,
// and a long-running process does not drift from the wall clock the way timeOrigin + now() does
// (NTP slews the wall clock, not the monotonic one), so spans from a worker started today line up
// with spans from an edge started last week.
import { performance } from 'node:perf_hooks'

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer'
export type AttributeValue = string | number | boolean | ReadonlyArray<string | number | boolean>
export type Attributes = Record<string, AttributeValue | undefined>

/** OTel status: unset (the default), ok, or error with a message. */
export type StatusCode = 'unset' | 'ok' | 'error'

export interface SpanEvent {
  name: string
  timeMs: number
  attributes: Attributes
}

export interface SpanData {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: SpanKind
  startMs: number
  endMs: number
  attributes: Attributes
  events: SpanEvent[]
  status: { code: StatusCode; message?: string }
  /** The tracestate this span was started under (W3C pass-through). */
  traceState: string | undefined
}

/** Wall clock minus monotonic clock, now: add performance.now() to get epoch milliseconds. */
export function clockAnchor(): number {
  return Date.now() - performance.now()
}

/** Epoch milliseconds (double) → nanoseconds as a decimal string, exactly as OTLP JSON wants. */
export function msToNanos(ms: number): string {
  let whole = Math.floor(ms)
  let frac = Math.round((ms - whole) * 1e6)
  // Every span time takes this path: whole milliseconds and six digits of nanoseconds joined as
  // text, without a BigInt. Below 1 ms and past 1e15 ms (no leading digits; a sign; exponent
  // notation) the BigInt arithmetic, which gives the same digits.
  if (whole >= 1 && whole < 1e15) {
    if (frac === 1e6) {
      whole++
      frac = 0
    }
    return `${whole}${String(frac + 1e6).slice(1)}`
  }
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString()
}

/** A span being recorded (sampled requests only). Ended once; later calls are ignored. */
export class RecordingSpan implements SpanData {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  name: string
  readonly kind: SpanKind
  readonly startMs: number
  endMs = 0
  attributes: Attributes
  events: SpanEvent[] = []
  status: { code: StatusCode; message?: string } = { code: 'unset' }
  readonly traceState: string | undefined
  /** Always true: lets the hot path test `store.recording` on either context shape. */
  readonly recording = true
  /** The local trace's clock anchor (see clockAnchor), shared by the spans under it here. */
  readonly anchor: number

  constructor(traceId: string, spanId: string, parentSpanId: string | undefined, name: string, kind: SpanKind, attributes: Attributes | undefined, traceState: string | undefined, anchor = clockAnchor()) {
    this.traceId = traceId
    this.spanId = spanId
    this.parentSpanId = parentSpanId
    this.name = name
    this.kind = kind
    this.anchor = anchor
    this.startMs = anchor + performance.now()
    this.attributes = attributes ? { ...attributes } : {}
    this.traceState = traceState
  }

  /** Epoch milliseconds on this span's clock. */
  now(): number {
    return this.anchor + performance.now()
  }

  get ended(): boolean {
    return this.endMs !== 0
  }

  setAttributes(attrs: Attributes): void {
    if (this.ended) return
    Object.assign(this.attributes, attrs)
  }

  addEvent(name: string, attributes: Attributes = {}): void {
    if (this.ended) return
    this.events.push({ name, timeMs: this.anchor + performance.now(), attributes })
  }

  setStatus(code: StatusCode, message?: string): void {
    if (this.ended) return
    this.status = message === undefined ? { code } : { code, message }
  }

  /** Marks the span failed and records OTel's `exception` event (type, message, stack). */
  recordError(error: unknown): void {
    const e = error instanceof Error ? error : undefined
    const message = e ? e.message : String(error)
    if (this.ended) return
    this.status = { code: 'error', message }
    this.addEvent('exception', {
      'exception.type': e ? (e.name || e.constructor?.name || 'Error') : typeof error,
      'exception.message': message,
      'exception.stacktrace': e?.stack,
    })
  }
}
