// Head sampling, decided once per request in startTrace (OpenTelemetry's samplers):
//   always        every request is recorded
//   never         none is (ids still propagate, flagged unsampled)
//   ratio         a fraction of traces, decided from the trace id so every process agrees
//   parent-based  follow the caller's sampled flag; a request without a caller uses the ratio
// A new root (no caller) is also recorded while fewer than `perSecond` roots were recorded in the
// current second (AWS X-Ray's reservoir: a quiet site, a developer clicking around or a test sees
// every request; under load the ratio bounds the cost).
import type { TraceParent } from './traceparent.ts'

export type SamplerName = 'always' | 'never' | 'ratio' | 'parent-based'
export const SAMPLER_NAMES: readonly SamplerName[] = ['always', 'never', 'ratio', 'parent-based']

/** Returns true when the request should be recorded. `parent` is the valid incoming traceparent. */
export type Sampler = (parent: TraceParent | undefined) => boolean

const TWO_52 = 2 ** 52

/** The ratio decision for a known trace id: its low 52 bits as a fraction, compared to `ratio`. */
export function traceIdBelowRatio(traceId: string, ratio: number): boolean {
  return parseInt(traceId.slice(19), 16) / TWO_52 < ratio
}

/**
 * Builds a sampler. `perSecond` roots per second are recorded whatever the ratio (0 = ratio only).
 * @example createSampler('parent-based', 0.1) // 10% of new traces, callers' decisions honoured
 * createSampler('parent-based', 0.05, 10)      // the first 10 new traces each second, then 5%
 */
export function createSampler(name: SamplerName, ratio = 1, perSecond = 0): Sampler {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`sample ratio must be within 0..1, got ${ratio}`)
  if (!(perSecond >= 0)) throw new RangeError(`samples per second must be >= 0, got ${perSecond}`)
  // A new root has a trace id nobody else has seen, so a plain random draw is equivalent to the
  // trace-id rule and lets an unsampled root skip generating ids at all.
  const draw = (): boolean => (ratio >= 1 ? true : ratio <= 0 ? false : Math.random() < ratio)
  let second = 0
  let used = 0
  const reservoir = (): boolean => {
    const now = Date.now()
    if (now - second >= 1000) {
      second = now
      used = 0
    }
    if (used >= perSecond) return false
    used++
    return true
  }
  const root = ratio >= 1 || perSecond <= 0 ? draw : (): boolean => reservoir() || draw()
  switch (name) {
    case 'always':
      return () => true
    case 'never':
      return () => false
    case 'ratio':
      return (parent) => (parent ? ratio >= 1 || traceIdBelowRatio(parent.traceId, ratio) : root())
    case 'parent-based':
      return (parent) => (parent ? parent.sampled : root())
    default:
      throw new RangeError(`unknown sampler ${JSON.stringify(name)} (known: ${SAMPLER_NAMES.join(', ')})`)
  }
}
