// Wiring from settings to a running journey: the resource (service.name and friends), the sink
// (the in-process collector, or an OTLP/HTTP exporter), the sampler.
import { hostname } from 'node:os'
import { configureJourney, type SpanSink } from './tracer.ts'
import { createSampler, type SamplerName } from './sampler.ts'
import { OtlpHttpExporter } from './exporter.ts'
import { createCollector, type Collector } from './collector.ts'
import { parseKeyValueList, resolveJourneySettings, type JourneySettings } from './settings.ts'
import type { Attributes } from './span.ts'

export interface InitOptions {
  /** This layer's service name when `journey.serviceName` is empty, e.g. 'causeway-worker'. */
  service?: string
  /** Store this process's spans straight into this collector (the process that hosts it). */
  collector?: Collector
  /** Replace the sinks chosen from settings (tests). */
  sinks?: SpanSink[]
}

export interface JourneyRuntime {
  settings: JourneySettings
  resource: Attributes
  sinks: SpanSink[]
  /** Present when spans go to an OTLP endpoint: its stats() count exported and dropped spans. */
  exporter?: OtlpHttpExporter
}

/** Resource attributes for this process (OTel semantic conventions). */
export function buildResource(settings: JourneySettings, service?: string): Attributes {
  const extra = settings.resourceAttributes ? parseKeyValueList(settings.resourceAttributes) : {}
  return {
    ...(typeof extra === 'string' ? {} : extra),
    'service.name': settings.serviceName || service || 'causeway',
    'service.instance.id': `${hostname()}:${process.pid}`,
    'host.name': hostname(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'telemetry.sdk.name': 'causeway.journey',
    'telemetry.sdk.language': 'nodejs',
  }
}

/**
 * Turns the journey on (or off) for this process from the `journey` config section.
 * Spans go to `options.collector` when given, else to `journey.otlpEndpoint` when set.
 *
 * @example
 * // in a worker: spans to the edge's collector (causeway up sets OTEL_EXPORTER_OTLP_ENDPOINT)
 * initJourney(config.journey, { service: 'causeway-worker' })
 * // in the edge, which hosts the collector:
 * const collector = createCollectorFromSettings(settings)
 * initJourney(config.journey, { service: 'causeway-edge', collector })
 */
export function initJourney(given: Record<string, unknown> | JourneySettings = {}, options: InitOptions = {}, env: NodeJS.ProcessEnv = process.env): JourneyRuntime {
  const settings = resolveJourneySettings(given as Record<string, unknown>, env)
  const resource = buildResource(settings, options.service)
  if (!settings.enabled) {
    configureJourney({ enabled: false })
    return { settings, resource, sinks: [] }
  }
  let exporter: OtlpHttpExporter | undefined
  let sinks = options.sinks
  if (!sinks) {
    if (options.collector) {
      sinks = [options.collector.sink(resource)]
    } else if (settings.otlpEndpoint) {
      const headers = settings.otlpHeaders ? parseKeyValueList(settings.otlpHeaders) : {}
      exporter = new OtlpHttpExporter({
        endpoint: settings.otlpEndpoint,
        resource,
        maxQueue: settings.exportQueue,
        maxBatch: settings.exportBatch,
        flushIntervalMs: settings.exportInterval,
        timeoutMs: settings.exportTimeout,
        headers: typeof headers === 'string' ? {} : headers,
      })
      sinks = [exporter]
    } else {
      sinks = []
    }
  }
  configureJourney({ enabled: true, sampler: createSampler(settings.sampler as SamplerName, settings.sampleRatio, settings.samplePerSecond), sinks })
  return { settings, resource, sinks, exporter }
}

/** The built-in collector sized by the settings. */
export function createCollectorFromSettings(settings: JourneySettings): Collector {
  return createCollector({
    maxTraces: settings.maxTraces,
    maxSpansPerTrace: settings.maxSpansPerTrace,
    maxSpans: settings.maxSpans,
    maxBodyBytes: settings.maxBodySize,
    slowThresholdMs: settings.slowThreshold,
  })
}
