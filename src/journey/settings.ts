// The `journey` section of causeway.config.ts, as a settings table (src/settings-table.ts): one
// source for the loader, the environment overrides and the docs table in docs/journey.md.
import { resolveSettings, type SettingsOf } from '../settings-table.ts'
import { ConfigError } from '../errors.ts'
import { SAMPLER_NAMES } from './sampler.ts'

function url(v: string): string | undefined {
  if (v === '') return undefined
  try {
    const u = new URL(v)
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'must be an http(s) URL'
  } catch {
    return 'must be an http(s) URL like http://127.0.0.1:4318'
  }
}

const positive = (n: number) => (n >= 1 ? undefined : 'must be at least 1')

/** `key=value,key=value` (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS) → a record. */
export function parseKeyValueList(raw: string): Record<string, string> | string {
  const out: Record<string, string> = {}
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) return `expected key=value pairs separated by commas, got ${JSON.stringify(part)}`
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim())
    } catch {
      return `bad percent-encoding in ${JSON.stringify(part)}`
    }
  }
  return out
}

const keyValues = (v: string) => {
  const r = parseKeyValueList(v)
  return typeof r === 'string' ? r : undefined
}

export const journeySettings = {
  enabled: { type: 'boolean', default: true, env: 'CAUSEWAY_JOURNEY', description: 'Record request journeys. Off: no span is made and `span()` only calls its function.' },
  sampler: {
    type: 'string', default: 'parent-based', env: 'CAUSEWAY_JOURNEY_SAMPLER',
    validate: (v: string) => (SAMPLER_NAMES.includes(v as never) ? undefined : `must be one of ${SAMPLER_NAMES.join(', ')}`),
    description: "`parent-based` (follow the caller's sampled flag, else `sampleRatio`), `ratio`, `always` or `never`.",
  },
  sampleRatio: {
    type: 'number', default: 0.05, env: 'CAUSEWAY_JOURNEY_SAMPLE',
    validate: (n: number) => (n >= 0 && n <= 1 ? undefined : 'must be between 0 and 1'),
    description: "Fraction of new traces recorded (0..1) beyond `samplePerSecond`. Default 0.05, the rate of AWS X-Ray's default rule (a per-second reservoir, then 5%); 1 records every request (OpenTelemetry's `parentbased_always_on`) at about twice the CPU per request.",
  },
  samplePerSecond: {
    type: 'int', default: 10, env: 'CAUSEWAY_JOURNEY_SAMPLE_PER_SECOND',
    validate: (n: number) => (n >= 0 ? undefined : 'must be >= 0'),
    description: 'New traces recorded each second (per process that starts traces: the edge) before `sampleRatio` applies, so a quiet site, a developer or a test sees every request and the dashboard always has recent ones. 0: the ratio alone.',
  },
  serviceName: { type: 'string', default: '', env: 'OTEL_SERVICE_NAME', description: "`service.name` of this process's spans; empty: the layer's own (`causeway-edge`, `causeway-worker`, …)." },
  resourceAttributes: { type: 'string', default: '', env: 'OTEL_RESOURCE_ATTRIBUTES', validate: keyValues, description: 'Extra resource attributes, `key=value,key=value` (e.g. `deployment.environment=prod`).' },
  otlpEndpoint: { type: 'string', default: '', env: 'OTEL_EXPORTER_OTLP_ENDPOINT', validate: url, description: 'Send spans as OTLP/HTTP JSON to this base URL (`/v1/traces` is appended). Empty: the built-in collector.' },
  otlpHeaders: { type: 'string', default: '', env: 'OTEL_EXPORTER_OTLP_HEADERS', validate: keyValues, description: 'Headers for the OTLP endpoint, `key=value,…` (an API key).' },
  exportQueue: { type: 'int', default: 2048, env: 'CAUSEWAY_JOURNEY_EXPORT_QUEUE', validate: positive, description: 'Finished spans waiting for export at most; more are dropped and counted, the request never waits.' },
  exportBatch: { type: 'int', default: 512, validate: positive, description: 'Spans per OTLP request.' },
  exportInterval: { type: 'duration', default: 1000, validate: (n: number) => (n >= 10 ? undefined : 'must be at least 10ms'), description: 'Longest a finished span waits before it is sent (ms, or `"2s"`).' },
  exportTimeout: { type: 'duration', default: 10_000, description: 'Timeout of one OTLP request (ms, or `"10s"`).' },
  collector: { type: 'boolean', default: true, env: 'CAUSEWAY_JOURNEY_COLLECTOR', description: 'Run the built-in collector (in the edge process) that the dashboard reads.' },
  maxTraces: { type: 'int', default: 1000, env: 'CAUSEWAY_JOURNEY_MAX_TRACES', validate: positive, description: 'Traces the collector keeps; the least recently updated goes first.' },
  maxSpansPerTrace: { type: 'int', default: 2000, validate: positive, description: 'Spans kept per trace; more are dropped and counted.' },
  maxSpans: { type: 'int', default: 100_000, validate: positive, description: 'Spans the collector keeps across all traces (memory bound).' },
  maxBodySize: { type: 'size', default: 4 * 1024 * 1024, validate: positive, description: 'Largest OTLP request the collector accepts, after gunzip; 413 above (bytes, or `"4mb"`).' },
  slowThreshold: { type: 'duration', default: 500, env: 'CAUSEWAY_JOURNEY_SLOW', description: 'Requests at least this long are listed as slow (ms, or `"1s"`).' },
  dashboardPath: {
    type: 'string', default: '/_causeway/journey',
    validate: (v: string) => (/^\/[A-Za-z0-9._~\-/]*$/.test(v) ? undefined : "must be a path starting with '/'"),
    description: 'Where the edge mounts the dashboard.',
  },
} as const

/** Resolved settings (durations in ms, sizes in bytes). */
export interface JourneySettings {
  enabled: boolean
  sampler: string
  sampleRatio: number
  samplePerSecond: number
  serviceName: string
  resourceAttributes: string
  otlpEndpoint: string
  otlpHeaders: string
  exportQueue: number
  exportBatch: number
  exportInterval: number
  exportTimeout: number
  collector: boolean
  maxTraces: number
  maxSpansPerTrace: number
  maxSpans: number
  maxBodySize: number
  slowThreshold: number
  dashboardPath: string
}

/**
 * Resolves the `journey` section: defaults, then the config file, then the environment.
 * Throws ConfigError naming `journey.<key>`.
 * @example const s = resolveJourneySettings(config.journey)
 */
export function resolveJourneySettings(given: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): JourneySettings {
  return resolveSettings('journey', journeySettings, given, withOtelSampler(env)) as SettingsOf<typeof journeySettings> & JourneySettings
}

// OpenTelemetry's standard sampler variables, honoured when Causeway's own are not set.
const OTEL_SAMPLERS: Record<string, [string, string | undefined]> = {
  always_on: ['always', undefined],
  always_off: ['never', undefined],
  traceidratio: ['ratio', 'arg'],
  parentbased_always_on: ['parent-based', '1'],
  parentbased_always_off: ['parent-based', '0'],
  parentbased_traceidratio: ['parent-based', 'arg'],
}

function withOtelSampler(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const otel = env.OTEL_TRACES_SAMPLER
  const disabled = env.OTEL_SDK_DISABLED === 'true' && env.CAUSEWAY_JOURNEY === undefined
  if (otel === undefined && !disabled) return env
  const out = { ...env }
  if (disabled) out.CAUSEWAY_JOURNEY = 'false'
  if (otel !== undefined && env.CAUSEWAY_JOURNEY_SAMPLER === undefined) {
    const known = OTEL_SAMPLERS[otel.trim().toLowerCase()]
    if (!known) throw new ConfigError('journey.sampler (env OTEL_TRACES_SAMPLER)', `unsupported sampler ${JSON.stringify(otel)} (supported: ${Object.keys(OTEL_SAMPLERS).join(', ')})`)
    out.CAUSEWAY_JOURNEY_SAMPLER = known[0]
    const ratio = known[1] === 'arg' ? (env.OTEL_TRACES_SAMPLER_ARG ?? '1') : known[1]
    if (ratio !== undefined && !(Number(ratio) >= 0 && Number(ratio) <= 1) || ratio?.trim() === '') {
      throw new ConfigError('journey.sampleRatio (env OTEL_TRACES_SAMPLER_ARG)', `must be a number between 0 and 1, got ${JSON.stringify(ratio)}`)
    }
    if (ratio !== undefined && env.CAUSEWAY_JOURNEY_SAMPLE === undefined) out.CAUSEWAY_JOURNEY_SAMPLE = ratio
    // OpenTelemetry's samplers have no reservoir: its variables mean exactly the ratio they name.
    if (env.CAUSEWAY_JOURNEY_SAMPLE_PER_SECOND === undefined) out.CAUSEWAY_JOURNEY_SAMPLE_PER_SECOND = '0'
  }
  return out
}
