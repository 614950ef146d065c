import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  resolveJourneySettings, initJourney, createCollector, createCollectorFromSettings, listenCollector, startTrace, span, isRecording,
  shutdownJourney, journeyEnabled, configureJourney, journeySettings,
} from '../../src/journey/index.ts'
import { settingsDocTable } from '../../src/settings-table.ts'
import { readFileSync } from 'node:fs'
import type { ConfigError } from '../../src/errors.ts'

test('defaults, config values and environment overrides', () => {
  const d = resolveJourneySettings({}, {})
  assert.equal(d.enabled, true)
  assert.equal(d.sampler, 'parent-based')
  assert.equal(d.sampleRatio, 0.05)
  assert.equal(d.samplePerSecond, 10)
  assert.equal(d.otlpEndpoint, '')
  assert.equal(d.maxTraces, 1000)
  assert.equal(d.slowThreshold, 500)
  assert.equal(d.maxBodySize, 4 * 1024 * 1024)
  assert.equal(d.dashboardPath, '/_causeway/journey')
  const s = resolveJourneySettings({ sampleRatio: 0.5, slowThreshold: '2s', maxBodySize: '1mb', serviceName: 'shop' }, {
    CAUSEWAY_JOURNEY_SAMPLE: '0.1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318', CAUSEWAY_JOURNEY: 'off', CAUSEWAY_JOURNEY_SAMPLER: 'ratio',
  })
  assert.equal(s.sampleRatio, 0.1, 'the environment wins over the file')
  assert.equal(s.slowThreshold, 2000)
  assert.equal(s.maxBodySize, 1024 * 1024)
  assert.equal(s.otlpEndpoint, 'http://tempo:4318')
  assert.equal(s.enabled, false)
  assert.equal(s.sampler, 'ratio')
  assert.equal(resolveJourneySettings({}, { OTEL_SERVICE_NAME: 'svc' }).serviceName, 'svc')
})

test('bad values are ConfigErrors naming journey.<key>', () => {
  const bad: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{ sampleRatio: 1.5 }, {}, /journey\.sampleRatio: must be between 0 and 1/],
    [{}, { CAUSEWAY_JOURNEY_SAMPLE: 'lots' }, /journey\.sampleRatio \(env CAUSEWAY_JOURNEY_SAMPLE\): expected a number/],
    [{ sampler: 'sometimes' }, {}, /journey\.sampler: must be one of always, never, ratio, parent-based/],
    [{ otlpEndpoint: 'tempo:4318' }, {}, /journey\.otlpEndpoint: must be an http\(s\) URL/],
    [{ maxTraces: 0 }, {}, /journey\.maxTraces: must be at least 1/],
    [{ slowThreshold: 'slow' }, {}, /journey\.slowThreshold/],
    [{ dashboardPath: 'journey' }, {}, /journey\.dashboardPath/],
    [{ resourceAttributes: 'novalue' }, {}, /journey\.resourceAttributes: expected key=value/],
    [{ sampel: 1 }, {}, /journey\.sampel: unknown setting/],
  ]
  for (const [given, env, msg] of bad) {
    assert.throws(() => resolveJourneySettings(given, env), (e: ConfigError) => e.code === 'CW_ERR_CONFIG' && msg.test(e.message), JSON.stringify([given, env]))
  }
})

test('initJourney: off, in-process collector, OTLP endpoint; resource from settings', async (t) => {
  initJourney({ enabled: false }, {}, {})
  assert.equal(journeyEnabled(), false)
  assert.equal(startTrace(undefined, undefined, () => isRecording()), false)

  const collector = createCollector()
  const rt = initJourney({ resourceAttributes: 'deployment.environment=test,team=web%20shop' }, { service: 'causeway-edge', collector }, {})
  assert.equal(rt.resource['service.name'], 'causeway-edge')
  assert.equal(rt.resource['deployment.environment'], 'test')
  assert.equal(rt.resource.team, 'web shop')
  assert.equal(rt.exporter, undefined)
  await startTrace(undefined, undefined, () => span('x', undefined, async () => {}))
  await rt.sinks[0]!.flush()
  assert.equal(collector.recent()[0]!.service, 'causeway-edge')

  const remote = createCollector()
  const server = await listenCollector(remote)
  t.after(server.close)
  const rt2 = initJourney({ serviceName: 'from-config', exportInterval: '1h' }, { service: 'causeway-worker' }, { OTEL_EXPORTER_OTLP_ENDPOINT: server.url })
  assert.equal(rt2.exporter!.url.href, `${server.url}/v1/traces`)
  await startTrace(undefined, undefined, async () => {})
  await shutdownJourney()
  assert.equal(remote.recent()[0]!.service, 'from-config', 'journey.serviceName overrides the layer default')
  assert.equal(rt2.exporter!.stats().exported, 1)
  assert.equal(journeyEnabled(), false, 'shutdown turns the journey off')

  const sized = createCollectorFromSettings(resolveJourneySettings({ maxTraces: 7, slowThreshold: '1s' }, {}))
  assert.equal(sized.options.maxTraces, 7)
  assert.equal(sized.options.slowThresholdMs, 1000)
  configureJourney({ enabled: false })
})

test('docs/journey.md documents every setting with its default', () => {
  const doc = readFileSync(new URL('../../docs/journey.md', import.meta.url), 'utf8')
  for (const row of settingsDocTable('journey', journeySettings).split('\n').slice(2)) {
    const key = row.split('|')[1]!.trim()
    assert.ok(doc.includes(row), `docs/journey.md lacks the generated row for ${key}`)
  }
})

test("OpenTelemetry's sampler variables are honoured when Causeway's are not set", () => {
  const r = (env: Record<string, string>) => { const s = resolveJourneySettings({}, env); return [s.enabled, s.sampler, s.sampleRatio] }
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }), [true, 'parent-based', 0.25])
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }), [true, 'ratio', 0.5])
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'always_off' }), [true, 'never', 0.05])
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }), [true, 'parent-based', 0])
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'always_off', CAUSEWAY_JOURNEY_SAMPLER: 'always' }), [true, 'always', 0.05], "Causeway's own variable wins")
  assert.deepEqual(r({ OTEL_SDK_DISABLED: 'true' }), [false, 'parent-based', 0.05])
  assert.deepEqual(r({ OTEL_SDK_DISABLED: 'true', CAUSEWAY_JOURNEY: 'on' }), [true, 'parent-based', 0.05])
  // OpenTelemetry's samplers have no per-second reservoir: its variables mean exactly their ratio.
  const perSecond = (env: Record<string, string>) => resolveJourneySettings({}, env).samplePerSecond
  assert.equal(perSecond({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }), 0)
  assert.equal(perSecond({ OTEL_TRACES_SAMPLER: 'parentbased_always_on', CAUSEWAY_JOURNEY_SAMPLE_PER_SECOND: '3' }), 3)
  assert.equal(perSecond({}), 10)
  assert.deepEqual(r({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }), [true, 'parent-based', 1])
  assert.throws(() => r({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }), /journey\.sampler \(env OTEL_TRACES_SAMPLER\): unsupported sampler "jaeger_remote"/)
  assert.throws(() => r({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /journey\.sampleRatio \(env OTEL_TRACES_SAMPLER_ARG\): must be a number between 0 and 1/)
  assert.throws(() => r({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' }), /OTEL_TRACES_SAMPLER_ARG/)
})
