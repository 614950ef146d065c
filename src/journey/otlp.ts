// Encoding finished spans as OTLP/HTTP JSON (ExportTraceServiceRequest): resourceSpans →
// scopeSpans → spans, ids as lowercase hex, times as decimal strings of unix nanoseconds, enums as
// integers, int64 attribute values as strings — the protobuf JSON mapping OTLP prescribes.
// encodeTracesJson writes that JSON text directly (what the exporter sends); encodeTraces builds
// the same request as objects.
import { msToNanos, type AttributeValue, type Attributes, type SpanData, type SpanKind, type StatusCode } from './span.ts'

export const SPAN_KIND_CODES: Record<SpanKind, number> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 }
export const STATUS_CODES: Record<StatusCode, number> = { unset: 0, ok: 1, error: 2 }
export const SCOPE = { name: 'causeway.journey', version: '0.1.0' }

export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } }
export interface OtlpKeyValue { key: string; value: OtlpAnyValue }

export function encodeValue(v: AttributeValue): OtlpAnyValue {
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { intValue: String(v) }
    // JSON has no NaN or Infinity: send them as text rather than break the whole batch.
    return Number.isFinite(v) ? { doubleValue: v } : { stringValue: String(v) }
  }
  return { arrayValue: { values: v.map((x) => encodeValue(x)) } }
}

export function encodeAttributes(attrs: Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = []
  for (const key in attrs) {
    const v = attrs[key]
    if (v !== undefined && v !== null) out.push({ key, value: encodeValue(v) })
  }
  return out
}

export interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  traceState?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: OtlpKeyValue[]
  events: { timeUnixNano: string; name: string; attributes: OtlpKeyValue[] }[]
  status: { code: number; message?: string }
}

export function encodeSpan(s: SpanData): OtlpSpan {
  const out: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: SPAN_KIND_CODES[s.kind],
    startTimeUnixNano: msToNanos(s.startMs),
    endTimeUnixNano: msToNanos(s.endMs),
    attributes: encodeAttributes(s.attributes),
    events: s.events.map((e) => ({ timeUnixNano: msToNanos(e.timeMs), name: e.name, attributes: encodeAttributes(e.attributes) })),
    status: s.status.message === undefined ? { code: STATUS_CODES[s.status.code] } : { code: STATUS_CODES[s.status.code], message: s.status.message },
  }
  if (s.parentSpanId) out.parentSpanId = s.parentSpanId
  if (s.traceState) out.traceState = s.traceState
  return out
}

/**
 * One ExportTraceServiceRequest for a batch of spans from one process (one resource).
 * @example JSON.stringify(encodeTraces({ 'service.name': 'causeway-edge' }, spans))
 */
export function encodeTraces(resource: Attributes, spans: readonly SpanData[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: encodeAttributes(resource) },
        scopeSpans: [{ scope: SCOPE, spans: spans.map(encodeSpan) }],
      },
    ],
  }
}

// The exporter's encoding: the request's JSON text written as it goes, with no OTLP objects in
// between (for a batch of 512 spans those were ~10,000 short-lived objects, then a walk by
// JSON.stringify). Fields OTLP's JSON mapping lets a sender leave out are left out when empty:
// attributes, events, an unset status (a receiver reads them as [], [] and STATUS_CODE_UNSET).

// Characters JSON.stringify would escape (quote, backslash, controls) or check (surrogates).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** JSON.stringify(s), quicker for the usual string (a name, a path, a word), which needs no escapes. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}

/** `{"key":<key>,"value":` for attribute keys seen before: a span's keys repeat span after span. */
const keyPrefixes = new Map<string, string>()
const MAX_KEY_PREFIXES = 1024
const SCOPE_JSON = JSON.stringify(SCOPE)

function keyPrefix(key: string): string {
  let p = keyPrefixes.get(key)
  if (p === undefined) {
    p = `{"key":${jsonString(key)},"value":`
    if (keyPrefixes.size < MAX_KEY_PREFIXES) keyPrefixes.set(key, p)
  }
  return p
}

/** encodeValue's result as JSON text. */
function valueJson(v: AttributeValue): string {
  if (typeof v === 'string') return `{"stringValue":${jsonString(v)}}`
  if (typeof v === 'boolean') return v ? '{"boolValue":true}' : '{"boolValue":false}'
  if (typeof v === 'number') {
    // A number's text is its JSON text; -0 prints as 0, as String(v) gave intValue.
    if (Number.isSafeInteger(v)) return `{"intValue":"${v}"}`
    return Number.isFinite(v) ? `{"doubleValue":${v}}` : `{"stringValue":"${v}"}`
  }
  let out = '{"arrayValue":{"values":['
  for (let i = 0; i < v.length; i++) out += i === 0 ? valueJson(v[i]!) : `,${valueJson(v[i]!)}`
  return `${out}]}}`
}

/** encodeAttributes' result as JSON text, '' when there are none. */
function attributesJson(attrs: Attributes): string {
  let out = ''
  for (const key in attrs) {
    const v = attrs[key]
    if (v === undefined || v === null) continue
    out += `${out === '' ? '[' : ','}${keyPrefix(key)}${valueJson(v)}}`
  }
  return out === '' ? '' : `${out}]`
}

/** One span as OTLP JSON text. Ids are written as they are: lowercase hex from ids.ts or a validated traceparent. */
function spanJson(s: SpanData): string {
  let out = `{"traceId":"${s.traceId}","spanId":"${s.spanId}"`
  if (s.parentSpanId) out += `,"parentSpanId":"${s.parentSpanId}"`
  if (s.traceState) out += `,"traceState":${jsonString(s.traceState)}`
  out += `,"name":${jsonString(s.name)},"kind":${SPAN_KIND_CODES[s.kind]},"startTimeUnixNano":"${msToNanos(s.startMs)}","endTimeUnixNano":"${msToNanos(s.endMs)}"`
  const attrs = attributesJson(s.attributes)
  if (attrs !== '') out += `,"attributes":${attrs}`
  const events = s.events
  if (events.length > 0) {
    out += ',"events":['
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!
      const ea = attributesJson(e.attributes)
      out += `${i === 0 ? '' : ','}{"timeUnixNano":"${msToNanos(e.timeMs)}","name":${jsonString(e.name)}${ea === '' ? '' : `,"attributes":${ea}`}}`
    }
    out += ']'
  }
  const { code, message } = s.status
  if (message !== undefined) out += `,"status":{"code":${STATUS_CODES[code]},"message":${jsonString(message)}}}`
  else if (code !== 'unset') out += `,"status":{"code":${STATUS_CODES[code]}}}`
  else out += '}'
  return out
}

/**
 * encodeTraces(resource, spans) as the JSON text of the request body, written directly.
 * @example req.end(encodeTracesJson({ 'service.name': 'causeway-worker' }, spans))
 */
export function encodeTracesJson(resource: Attributes, spans: readonly SpanData[]): string {
  const attrs = attributesJson(resource)
  let out = `{"resourceSpans":[{"resource":{${attrs === '' ? '' : `"attributes":${attrs}`}},"scopeSpans":[{"scope":${SCOPE_JSON},"spans":[`
  for (let i = 0; i < spans.length; i++) out += i === 0 ? spanJson(spans[i]!) : `,${spanJson(spans[i]!)}`
  return `${out}]}]}]}`
}
