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
  KINDS, LIMITS, STATUSES, cap, fail, id, isObject, nanos, nanosBetween, nanosToMs, serviceOf, str, type CollectedEvent, type CollectedSpan, type Value,
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

/** A value as otlp-decode.ts anyValue() decodes its OTLP form (`depth` counts enclosing arrays). */
function value(v: unknown, path: string, depth: number): Value {
  if (depth > LIMITS.depth) return '[nested too deep]'
  if (typeof v === 'string') return v.length > LIMITS.string ? `${v.slice(0, LIMITS.string)}…` : v
  if (typeof v === 'number' || typeof v === 'boolean') return v
  if (!Array.isArray(v)) fail(path, 'expected a string, number, boolean or array')
  const out: Value[] = []
  for (let i = 0; i < v.length && i < LIMITS.arrayItems; i++) out.push(value(v[i], path, depth + 1))
  return out
}

function attributes(v: unknown, keys: string[], path: string): Record<string, Value> {
  const out: Record<string, Value> = Object.create(null)
  if (v === 0) return out
  if (!Array.isArray(v) || v.length % 2 !== 0) fail(path, 'expected [key, value, …]')
  const n = Math.min(v.length, LIMITS.attributes * 2)
  for (let i = 0; i < n; i += 2) {
    const k = v[i]
    const key = typeof k === 'number' ? keys[k] : undefined
    if (key === undefined) fail(`${path}[${i}]`, 'expected an index into keys')
    out[key] = value(v[i + 1], `${path}[${i + 1}]`, 0)
  }
  return out
}

function events(v: unknown, keys: string[], path: string): CollectedEvent[] {
  if (v === 0) return []
  if (!Array.isArray(v)) fail(path, 'expected 0 or a list of events')
  const out: CollectedEvent[] = []
  for (let i = 0; i < v.length && i < LIMITS.events; i++) {
    const e = v[i] as unknown[]
    if (!Array.isArray(e)) fail(`${path}[${i}]`, 'expected [name, timeUnixNano, attributes]')
    out.push({ name: str(e[0], `${path}[${i}][0]`, LIMITS.name), timeUnixNano: nanos(e[1], `${path}[${i}][1]`), attributes: attributes(e[2], keys, `${path}[${i}][2]`) })
  }
  return out
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
  let trace: string | undefined
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i] as unknown[]
    if (!Array.isArray(s) || s.length < 10) fail(`spans[${i}]`, 'expected a span array')
    if (s[0] === 0) {
      if (trace === undefined) fail(`spans[${i}][0]`, 'no previous span to take the trace id from')
    } else {
      trace = id(s[0], `spans[${i}][0]`, 32)
    }
    const start = nanos(s[5], `spans[${i}][5]`)
    const end = nanos(s[6], `spans[${i}][6]`)
    const durationNs = nanosBetween(start, end)
    if (durationNs < 0) fail(`spans[${i}][6]`, 'ends before it starts')
    const kind = s[4]
    if (typeof kind !== 'number' || KINDS[kind] === undefined) fail(`spans[${i}][4]`, `unknown kind ${JSON.stringify(kind)}`)
    const evs = events(s[8], keys, `spans[${i}][8]`)
    let status = s[9]
    let message: unknown
    if (Array.isArray(status)) {
      message = status[1]
      status = status[0]
    }
    if (typeof status !== 'number' || STATUSES[status] === undefined) fail(`spans[${i}][9]`, `unknown status ${JSON.stringify(status)}`)
    const c: CollectedSpan = {
      traceId: trace,
      spanId: id(s[1], `spans[${i}][1]`, 16),
      name: str(s[3], `spans[${i}][3]`, LIMITS.name),
      kind: KINDS[kind]!,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      startMs: nanosToMs(start),
      durationMs: durationNs / 1e6,
      attributes: attributes(s[7], keys, `spans[${i}][7]`),
      events: evs,
      status: { code: STATUSES[status]! },
      service,
      resource,
    }
    if (s[2] !== 0 && s[2] !== '') c.parentSpanId = id(s[2], `spans[${i}][2]`, 16)
    if (typeof s[10] === 'string' && s[10] !== '') c.traceState = cap(s[10], 512)
    if (message !== undefined && message !== '') c.status.message = str(message, `spans[${i}][9][1]`, LIMITS.string)
    if (scope !== undefined) c.scope = scope
    out.push(c)
  }
  return out
}
