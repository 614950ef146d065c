// Causeway's own span encoding between its processes: what a worker's exporter sends the edge's
// collector once the collector has said it reads it (exporter.ts). The same spans as an OTLP JSON
// export, in about half the bytes and without OTLP's object per attribute, value and status: a
// span is an array, attributes are flat [key, value, …] lists whose keys index a table sent once
// per batch, values are plain JSON, and a span of the previous span's trace leaves its trace id
// out. decodeCompactSpans gives exactly what decodeOtlpTraces gives for the OTLP export of the
// same spans, with the same checks and limits: the body still comes from the network.
//
//   { "v": 1, "resource": attributes, "scope": "causeway.journey", "spans": [span, …], "keys": [key, …] }
//   span       = [traceId | 0 (the previous span's), spanId, parentSpanId | 0, name, kind, startTimeUnixNano,
//                 endTimeUnixNano, attributes, events, status, traceState?]
//   attributes = 0 | [keyIndex, value, …]        value: string, number, boolean or an array of them
//   events     = 0 | [[name, timeUnixNano, attributes], …]
//   status     = code | [code, message]          kind and code are OTLP's numbers; times are OTLP's decimal strings
import {
  KINDS, LIMITS, STATUSES, cap, fail, id, isObject, nanos, nanosBetween, nanosToMs, serviceOf, str, under, type CollectedEvent, type CollectedSpan, type Value,
} from './otlp-decode.ts'
import { SCOPE, SPAN_KIND_CODES, STATUS_CODES, jsonString } from './otlp.ts'
import { msToNanos, type AttributeValue, type Attributes, type SpanData } from './span.ts'

/** The content type of a compact batch; the collector lists it in its answers' Accept-Post. */
export const COMPACT_SPANS_TYPE = 'application/vnd.causeway.spans+json'

// ── Encoding (the worker) ──────────────────────────────────────────────────────────────────────

/** A batch's attribute keys: each written once, in the table, and by index everywhere else. */
class KeyTable {
  readonly #index = new Map<string, number>()
  readonly keys: string[] = []
  of(key: string): number {
    let i = this.#index.get(key)
    if (i === undefined) {
      i = this.keys.length
      this.keys.push(key)
      this.#index.set(key, i)
    }
    return i
  }
}

function valueJson(v: AttributeValue): string {
  if (typeof v === 'string') return jsonString(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  // A finite number's text is its JSON text (-0 prints as 0, as OTLP's intValue "0"); NaN and
  // ±Infinity go as text, as the OTLP encoder sends them.
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : `"${v}"`
  let out = '['
  for (let i = 0; i < v.length; i++) out += i === 0 ? valueJson(v[i]!) : `,${valueJson(v[i]!)}`
  return `${out}]`
}

function attributesJson(attrs: Attributes, keys: KeyTable): string {
  let out = ''
  for (const key in attrs) {
    const v = attrs[key]
    if (v === undefined || v === null) continue
    out += `${out === '' ? '[' : ','}${keys.of(key)},${valueJson(v)}`
  }
  return out === '' ? '0' : `${out}]`
}

/**
 * A batch of this process's spans as a compact body (see the top of this file).
 * @example req.end(encodeCompactSpans({ 'service.name': 'causeway-worker' }, spans))
 */
export function encodeCompactSpans(resource: Attributes, spans: readonly SpanData[]): string {
  const keys = new KeyTable()
  let out = `{"v":1,"resource":${attributesJson(resource, keys)},"scope":${jsonString(SCOPE.name)},"spans":[`
  let trace: string | undefined
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!
    // Ids are written as they are: lowercase hex from ids.ts or a validated traceparent.
    out += `${i === 0 ? '[' : ',['}${s.traceId === trace ? '0' : `"${s.traceId}"`},"${s.spanId}",${s.parentSpanId ? `"${s.parentSpanId}"` : '0'},${jsonString(s.name)},${SPAN_KIND_CODES[s.kind]},"${msToNanos(s.startMs)}","${msToNanos(s.endMs)}",${attributesJson(s.attributes, keys)},`
    trace = s.traceId
    const events = s.events
    if (events.length === 0) {
      out += '0'
    } else {
      for (let j = 0; j < events.length; j++) {
        const e = events[j]!
        out += `${j === 0 ? '[[' : ',['}${jsonString(e.name)},"${msToNanos(e.timeMs)}",${attributesJson(e.attributes, keys)}]`
      }
      out += ']'
    }
    const { code, message } = s.status
    out += message === undefined ? `,${STATUS_CODES[code]}` : `,[${STATUS_CODES[code]},${jsonString(message)}]`
    out += s.traceState ? `,${jsonString(s.traceState)}]` : ']'
  }
  return `${out}],"keys":${JSON.stringify(keys.keys)}}`
}

// ── Decoding (the collector) ───────────────────────────────────────────────────────────────────

// Paths are built only for an error (as in otlp-decode.ts): a field's path is a constant relative
// to what its function decodes, and each loop prepends its `[i]` when an error passes through.

/** A value as otlp-decode.ts anyValue() decodes its OTLP form (`depth` counts enclosing arrays). */
function value(v: unknown, depth: number): Value {
  if (depth > LIMITS.depth) return '[nested too deep]'
  if (typeof v === 'string') return cap(v)
  if (typeof v === 'number' || typeof v === 'boolean') return v
  if (!Array.isArray(v)) fail('', 'expected a string, number, boolean or array')
  const out: Value[] = []
  for (let i = 0; i < v.length && i < LIMITS.arrayItems; i++) out.push(value(v[i], depth + 1))
  return out
}

/** `at`: the list's path relative to the caller's array (a constant). */
function attributes(v: unknown, keys: string[], at: string): Record<string, Value> {
  const out: Record<string, Value> = Object.create(null)
  if (v === 0) return out
  if (!Array.isArray(v) || v.length % 2 !== 0) fail(at, 'expected [key, value, …]')
  const n = Math.min(v.length, LIMITS.attributes * 2)
  for (let i = 0; i < n; i += 2) {
    const k = v[i]
    const key = typeof k === 'number' ? keys[k] : undefined
    if (key === undefined) fail(`${at}[${i}]`, 'expected an index into keys')
    try {
      out[key] = value(v[i + 1], 0)
    } catch (e) {
      throw under(e, `${at}[${i + 1}]`)
    }
  }
  return out
}

/** A span's events (its field [8]); error paths relative to the span. */
function events(v: unknown, keys: string[]): CollectedEvent[] {
  if (v === 0) return []
  if (!Array.isArray(v)) fail('[8]', 'expected 0 or a list of events')
  const out: CollectedEvent[] = []
  for (let i = 0; i < v.length && i < LIMITS.events; i++) {
    try {
      const e = v[i] as unknown[]
      if (!Array.isArray(e)) fail('', 'expected [name, timeUnixNano, attributes]')
      out.push({ name: str(e[0], '[0]', LIMITS.name), timeUnixNano: nanos(e[1], '[1]'), attributes: attributes(e[2], keys, '[2]') })
    } catch (e) {
      throw under(e, `[8][${i}]`)
    }
  }
  return out
}

/** One span; `trace` is the previous span's trace id. Error paths relative to the span. */
function span(s: unknown[], trace: string | undefined, keys: string[], service: string, resource: Record<string, Value>, scope: string | undefined): CollectedSpan {
  if (!Array.isArray(s) || s.length < 10) fail('', 'expected a span array')
  let traceId = trace
  if (s[0] !== 0) traceId = id(s[0], '[0]', 32)
  else if (traceId === undefined) fail('[0]', 'no previous span to take the trace id from')
  const start = nanos(s[5], '[5]')
  const end = nanos(s[6], '[6]')
  const durationNs = nanosBetween(start, end)
  if (durationNs < 0) fail('[6]', 'ends before it starts')
  const kind = s[4]
  if (typeof kind !== 'number' || KINDS[kind] === undefined) fail('[4]', `unknown kind ${JSON.stringify(kind)}`)
  const evs = events(s[8], keys)
  let status = s[9]
  let message: unknown
  if (Array.isArray(status)) {
    message = status[1]
    status = status[0]
  }
  if (typeof status !== 'number' || STATUSES[status] === undefined) fail('[9]', `unknown status ${JSON.stringify(status)}`)
  const c: CollectedSpan = {
    traceId,
    spanId: id(s[1], '[1]', 16),
    name: str(s[3], '[3]', LIMITS.name),
    kind: KINDS[kind]!,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    startMs: nanosToMs(start),
    durationMs: durationNs / 1e6,
    attributes: attributes(s[7], keys, '[7]'),
    events: evs,
    status: { code: STATUSES[status]! },
    service,
    resource,
  }
  if (s[2] !== 0 && s[2] !== '') c.parentSpanId = id(s[2], '[2]', 16)
  if (typeof s[10] === 'string' && s[10] !== '') c.traceState = cap(s[10], 512)
  if (message !== undefined && message !== '') c.status.message = str(message, '[9][1]', LIMITS.string)
  if (scope !== undefined) c.scope = scope
  return c
}

/**
 * Validates a parsed compact body and returns its spans as the collector stores them; throws
 * OtlpDecodeError naming the first bad field.
 */
export function decodeCompactSpans(body: unknown): CollectedSpan[] {
  if (!isObject(body)) fail('body', 'expected a JSON object')
  if (body.v !== 1) fail('v', `unsupported version ${JSON.stringify(body.v)}`)
  const rawKeys = body.keys
  if (!Array.isArray(rawKeys)) fail('keys', 'expected an array of strings')
  const keys: string[] = []
  for (let i = 0; i < rawKeys.length; i++) keys.push(str(rawKeys[i], `keys[${i}]`, LIMITS.name))
  const resource = attributes(body.resource, keys, 'resource')
  const service = serviceOf(resource)
  const scope = typeof body.scope === 'string' ? cap(body.scope, LIMITS.name) : undefined
  const spans = body.spans
  if (!Array.isArray(spans)) fail('spans', 'expected an array')
  const out: CollectedSpan[] = []
  for (let i = 0; i < spans.length; i++) {
    try {
      out.push(span(spans[i] as unknown[], i === 0 ? undefined : out[i - 1]!.traceId, keys, service, resource, scope))
    } catch (e) {
      throw under(e, `spans[${i}]`)
    }
  }
  return out
}
