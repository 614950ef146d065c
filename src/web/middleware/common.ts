// Django's CommonMiddleware: DISALLOWED_USER_AGENTS → 403, PREPEND_WWW → 301 to www., and
// Content-Length on in-memory bodies. APPEND_SLASH is not repeated here: the URL dispatch
// (dispatch.ts) already redirects a non-matching path to its matching slash form, deciding it
// right where the resolver says "no match", so it costs nothing on matched requests.
import { ConfigError } from '../../errors.ts'
import { HttpResponse } from '../response.ts'
import type { HttpRequest } from '../request.ts'
import type { Middleware } from '../types.ts'
import type { SettingsTable } from '../../settings-table.ts'

export const commonSettingsTable = {
  PREPEND_WWW: {
    type: 'boolean', default: false,
    description: "Redirect (301) requests whose host does not start with 'www.' to the www. host, same path and query.",
  },
  DISALLOWED_USER_AGENTS: {
    type: 'list', default: [] as string[],
    description: 'Regular expressions (case-insensitive, unanchored); a request whose User-Agent matches one gets 403.',
  },
} satisfies SettingsTable

function compileAgents(patterns: readonly string[]): RegExp | undefined {
  if (patterns.length === 0) return undefined
  const parts = patterns.map((p, i) => {
    try {
      new RegExp(p)
    } catch (e) {
      throw new ConfigError(`app.DISALLOWED_USER_AGENTS[${i}]`, `is not a valid regular expression: ${(e as Error).message}`)
    }
    return `(?:${p})`
  })
  // One alternation: a single test per request however many patterns there are.
  return new RegExp(parts.join('|'), 'i')
}

function wwwRedirect(req: HttpRequest): HttpResponse | undefined {
  const host = req.host
  if (host === '' || host.startsWith('www.')) return undefined
  const res = new HttpResponse('', { status: 301 })
  res.headers['location'] = `${req.scheme}://www.${host}${req.fullPath}`
  return res
}

// Set here (not only by the writer) so middleware above can read it, as in Django.
function setContentLength(res: HttpResponse): HttpResponse {
  const body = res.body
  if (res.headers['content-length'] === undefined && res.status !== 204 && res.status !== 304) {
    if (typeof body === 'string') res.headers['content-length'] = String(Buffer.byteLength(body))
    else if (body instanceof Uint8Array) res.headers['content-length'] = String(body.byteLength)
  }
  return res
}

/**
 * CommonMiddleware. Settings: PREPEND_WWW (default false), DISALLOWED_USER_AGENTS (default []);
 * APPEND_SLASH lives in the URL dispatch and works with or without this middleware.
 *
 * @example
 * createApp({ urls, middleware: [commonMiddleware], settings: { DISALLOWED_USER_AGENTS: ['^BadBot'] } })
 */
export const commonMiddleware: Middleware = {
  name: 'common',
  settings: commonSettingsTable,
  phases(settings) {
    const agents = compileAgents(settings.DISALLOWED_USER_AGENTS ?? [])
    const prependWww = settings.PREPEND_WWW === true
    // Without DISALLOWED_USER_AGENTS and PREPEND_WWW there is no request phase to call.
    const request = agents === undefined && !prependWww ? undefined : (req: HttpRequest): HttpResponse | undefined => {
      if (agents !== undefined && agents.test(req.header('user-agent') ?? '')) {
        return new HttpResponse('Forbidden user agent', { status: 403 }, 'text/plain; charset=utf-8')
      }
      return prependWww ? wwwRedirect(req) : undefined
    }
    return { request, response: (_req, res) => setContentLength(res) }
  },
}
