// static('css/app.css') → STATIC_URL + the file's name, or its hashed name from a manifest
// (`{ "paths": { "css/app.css": "css/app.3f2a9c.css" } }`, what collectstatic writes) so that
// browsers can cache static files forever. Like Django's ManifestStaticFilesStorage the manifest
// is used only when DEBUG is off, and a name missing from it is an error (strict) rather than a
// silently uncacheable URL.
import { readFileSync } from 'node:fs'
import { CausewayError, ConfigError } from '../../errors.ts'

export interface StaticOptions {
  /** URL prefix, ending in '/'. Default '/static/'. */
  staticUrl?: string
  /** Path of the JSON manifest of hashed names; omitted: names are used as they are. */
  manifest?: string
  /** Throw for a name missing from the manifest (default true, Django's manifest_strict). */
  strict?: boolean
  /** Debug mode ignores the manifest (files are served unhashed from their directories). */
  debug?: boolean
}

export type StaticUrl = (name: string) => string

/** Builds the static() helper once; the manifest is read here, not per call. */
export function staticUrlBuilder(opts: StaticOptions = {}): StaticUrl {
  const base = opts.staticUrl ?? '/static/'
  if (!base.endsWith('/')) throw new ConfigError('app.STATIC_URL', `must end with '/' (got ${JSON.stringify(base)})`)
  let paths: Record<string, string> | null = null
  if (opts.manifest && !opts.debug) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(opts.manifest, 'utf8'))
    } catch (e) {
      throw new ConfigError('app.STATIC_MANIFEST', `cannot read the static manifest ${opts.manifest}: ${(e as Error).message} (run collectstatic, or unset it)`)
    }
    const p = (parsed as { paths?: unknown } | null)?.paths
    if (!p || typeof p !== 'object') throw new ConfigError('app.STATIC_MANIFEST', `${opts.manifest} has no "paths" object`)
    paths = p as Record<string, string>
  }
  const strict = opts.strict ?? true
  // A page calls static() for the same few names on every render, and the answer depends only on
  // the name (the manifest is read once, above): remembered, for a bounded number of names.
  const known = new Map<string, string>()
  return (name: string): string => {
    const hit = known.get(name)
    if (hit !== undefined) return hit
    if (typeof name !== 'string' || name === '') throw new CausewayError('CW_ERR_STATIC', 'static() needs a file name')
    let clean = name.replace(/^\/+/, '')
    if (paths) {
      const hashed = Object.hasOwn(paths, clean) ? paths[clean] : undefined
      if (hashed !== undefined) clean = hashed
      else if (strict) throw new CausewayError('CW_ERR_STATIC', `Missing staticfiles manifest entry for '${clean}'`)
    }
    const url = base + encodeURI(clean).replace(/[?#]/g, encodeURIComponent)
    if (known.size >= MAX_KNOWN) known.clear()
    known.set(name, url)
    return url
  }
}

const MAX_KNOWN = 1000
