// CsrfViewMiddleware (Django's): unsafe requests must carry the secret (masked) in the form field
// `csrfmiddlewaretoken` or the X-CSRFToken header, matching the cookie (or session), and come
// from a trusted Origin (or, over HTTPS without Origin, a trusted Referer).
import type { Middleware } from '../types.ts'
import type { WebSettings } from '../settings.ts'
import type { HttpRequest } from '../request.ts'
import { HttpResponse, html } from '../response.ts'
import { cookieOptionsFromSettings, type CookieOptions } from '../cookies.ts'
import { escapeHtml } from '../escape.ts'
import { maybeSession } from '../sessions/session.ts'
import { csrfSettingsTable } from './settings.ts'
import { CSRF, getCsrfToken, tokenOf, type CsrfState } from './state.ts'
import { checkTokenFormat, normalizeSecret, tokenMatches } from './tokens.ts'
import { CSRF_ENSURE_COOKIE, isCsrfExempt } from './decorators.ts'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const SESSION_KEY = '_csrftoken'

export const REASON_NO_CSRF_COOKIE = 'CSRF cookie not set.'
export const REASON_CSRF_TOKEN_MISSING = 'CSRF token missing.'
export const REASON_BAD_TOKEN = 'CSRF token incorrect.'
export const REASON_NO_REFERER = 'Referer checking failed - no Referer.'
export const REASON_MALFORMED_REFERER = 'Referer checking failed - Referer is malformed.'
export const REASON_INSECURE_REFERER = 'Referer checking failed - Referer is insecure while host is secure.'
export const REASON_BAD_ORIGIN = (origin: string) => `Origin checking failed - ${origin} does not match any trusted origins.`
export const REASON_BAD_REFERER = (referer: string) => `Referer checking failed - ${referer} does not match any trusted origins.`

interface Trusted {
  exact: Set<string>
  /** [scheme, '.suffix'] for 'https://*.example.com'. */
  wildcard: [string, string][]
}

function compileTrusted(list: readonly string[]): Trusted {
  const exact = new Set<string>()
  const wildcard: [string, string][] = []
  for (const o of list) {
    const m = /^([a-z][a-z0-9+.-]*):\/\/\*(\..+)$/i.exec(o)
    if (m) wildcard.push([m[1]!.toLowerCase(), m[2]!.toLowerCase()])
    else exact.add(o.toLowerCase())
  }
  return { exact, wildcard }
}

function originTrusted(origin: string, t: Trusted): boolean {
  const o = origin.toLowerCase()
  if (t.exact.has(o)) return true
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)$/.exec(o)
  if (!m) return false
  const host = m[2]!.replace(/:\d+$/, '')
  return t.wildcard.some(([scheme, suffix]) => scheme === m[1] && (host.endsWith(suffix) || '.' + host === suffix))
}

function failurePage(req: HttpRequest, reason: string, templateName: string): Promise<HttpResponse> | HttpResponse {
  const t = req.app.templates
  if (t.has?.(templateName)) {
    return Promise.resolve(t.render(templateName, { reason, request_path: req.path }, req))
      .then((body) => html(body, { status: 403 }))
  }
  const debug = req.app.settings.DEBUG
  const help = debug
    ? `<p>Causeway checks unsafe requests (POST, PUT, PATCH, DELETE) against cross-site request forgery. ` +
      `Forms need <code>{{ csrfInput }}</code> inside them; scripts send the token in the <code>X-CSRFToken</code> header; ` +
      `the browser must accept the <code>${escapeHtml(req.app.settings.CSRF_COOKIE_NAME)}</code> cookie; cross-origin requests need ` +
      `their origin in <code>CSRF_TRUSTED_ORIGINS</code>. Views that must skip this check use <code>csrfExempt(view)</code>.</p>`
    : '<p>The form may have been open too long, or cookies are disabled. Reload the page and try again.</p>'
  return html(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>403 Forbidden</title></head>` +
    `<body><h1>Forbidden <small>(403)</small></h1><p>CSRF verification failed. Request aborted.</p>` +
    `<p>Reason given for the failure: <strong>${escapeHtml(reason)}</strong></p>${help}</body></html>`, { status: 403 })
}

// `req.state.csrfToken`: one getter shared by every request (`this` is the request's state), not
// a closure made per request.
const CSRF_TOKEN_PROPERTY: PropertyDescriptor = {
  get(this: Record<symbol, CsrfState | undefined> | undefined): string {
    return tokenOf(this?.[CSRF])
  },
  configurable: true,
  enumerable: false,
}

/** CSRF_USE_SESSIONS: the secret is kept in the session (when it changed). */
async function saveToSession(req: HttpRequest, secret: string, res: HttpResponse): Promise<HttpResponse> {
  const session = maybeSession(req)!
  if ((await session.get(SESSION_KEY)) !== secret) await session.set(SESSION_KEY, secret)
  return res
}

/**
 * @example createApp({ urls, middleware: [sessionMiddleware, csrfMiddleware, authenticationMiddleware] })
 * // in a template: <form method="post">{{ csrfInput }}…</form>
 */
export const csrfMiddleware: Middleware = {
  name: 'csrf',
  settings: csrfSettingsTable,
  phases(settings: WebSettings) {
    const useSessions: boolean = settings.CSRF_USE_SESSIONS
    const cookieName: string = settings.CSRF_COOKIE_NAME
    const cookie: CookieOptions = {
      ...cookieOptionsFromSettings(settings, 'CSRF'),
      ...(settings.CSRF_COOKIE_AGE > 0 && { maxAge: settings.CSRF_COOKIE_AGE }),
    }
    // CSRF_USE_SESSIONS: the secret comes from the session (read now only when it will be needed).
    const fromSession = (req: HttpRequest, st: CsrfState): Promise<void> | undefined => {
      const session = maybeSession(req)
      if (!session) throw new Error('CSRF_USE_SESSIONS needs the session middleware above the CSRF middleware')
      // Only safe to read lazily for unsafe requests; a GET reads it when the page uses a token.
      if (SAFE.has(req.method) && session.incoming === undefined) {
        Object.defineProperty(req.state, 'csrfToken', CSRF_TOKEN_PROPERTY)
        return undefined
      }
      return session.get<string>(SESSION_KEY).then((secret) => {
        st.secret = normalizeSecret(secret)
        Object.defineProperty(req.state, 'csrfToken', CSRF_TOKEN_PROPERTY)
      })
    }
    return {
      request(req: HttpRequest): Promise<void> | undefined {
        const st: CsrfState = { secret: undefined, needsUpdate: false }
        ;(req.state as Record<symbol, CsrfState>)[CSRF] = st
        if (useSessions) return fromSession(req, st)
        const raw = req.cookies[cookieName]
        st.secret = normalizeSecret(raw)
        // A masked token stored as the cookie (older clients): send back the plain secret.
        if (st.secret !== undefined && st.secret !== raw) st.fresh = true
        // Lazy: a page that never outputs the token does not set the cookie.
        Object.defineProperty(req.state, 'csrfToken', CSRF_TOKEN_PROPERTY)
        return undefined
      },
      // A new or rotated secret goes out (the session path is async).
      response(req: HttpRequest, res: HttpResponse): HttpResponse | Promise<HttpResponse> {
        const st = (req.state as Record<symbol, CsrfState | undefined>)[CSRF]
        if (st === undefined || !st.needsUpdate || st.secret === undefined) return res
        if (useSessions) return saveToSession(req, st.secret, res)
        // Django 4.1+: only a new or rotated secret is sent; the client keeps the one it has.
        if (st.fresh) res.setCookie(cookieName, st.secret, cookie)
        const v = res.getHeader('vary')
        const vs = Array.isArray(v) ? v.join(', ') : v
        if (!vs) res.setHeader('vary', 'Cookie')
        else if (!/(^|,)\s*cookie\s*(,|$)/i.test(vs)) res.setHeader('vary', `${vs}, Cookie`)
        return res
      },
    }
  },
  // Not async: a safe method (nothing to check) answers synchronously, without a promise.
  view(req, view) {
    const st = (req.state as Record<symbol, CsrfState | undefined>)[CSRF]
    if (!st) return
    if ((view as unknown as Record<symbol, unknown>)[CSRF_ENSURE_COOKIE]) getCsrfToken(req)
    if (SAFE.has(req.method) || isCsrfExempt(view)) return
    return rejectReason(req, st).then((reason) => (reason === undefined ? undefined : failurePage(req, reason, req.app.settings.CSRF_FAILURE_TEMPLATE)))
  },
}

const trustedCache = new WeakMap<object, Trusted>()

async function rejectReason(req: HttpRequest, st: CsrfState): Promise<string | undefined> {
  const s = req.app.settings
  let trusted = trustedCache.get(s)
  if (!trusted) trustedCache.set(s, (trusted = compileTrusted(s.CSRF_TRUSTED_ORIGINS)))
  const own = `${req.scheme}://${req.host}`
  const origin = req.header('origin')
  if (origin !== undefined) {
    if (origin.toLowerCase() !== own && !originTrusted(origin, trusted)) return REASON_BAD_ORIGIN(origin)
  } else if (req.isSecure) {
    // Without Origin, HTTPS requests must show a Referer from a trusted origin (a MITM on plain
    // HTTP could plant a cookie; the Referer proves the page was ours).
    const referer = req.header('referer')
    if (!referer) return REASON_NO_REFERER
    let u: URL
    try {
      u = new URL(referer)
    } catch {
      return REASON_MALFORMED_REFERER
    }
    if (!u.host || (u.protocol !== 'https:' && u.protocol !== 'http:')) return REASON_MALFORMED_REFERER
    if (u.protocol !== 'https:') return REASON_INSECURE_REFERER
    const refOrigin = `https://${u.host}`
    if (refOrigin.toLowerCase() !== own && !originTrusted(refOrigin, trusted)) return REASON_BAD_REFERER(referer)
  }
  if (st.secret === undefined) return REASON_NO_CSRF_COOKIE
  let token: string | undefined
  if (req.method === 'POST' && (req.contentType === 'application/x-www-form-urlencoded' || req.contentType === 'multipart/form-data')) {
    try {
      token = (await req.form()).get('csrfmiddlewaretoken') ?? undefined
    } catch {
      token = undefined // a body we cannot read: fall back to the header, the view reports the body error
    }
  }
  if (!token) token = req.header(s.CSRF_HEADER_NAME)
  if (!token) return REASON_CSRF_TOKEN_MISSING
  const bad = checkTokenFormat(token)
  if (bad) return bad
  if (!tokenMatches(token, st.secret)) return REASON_BAD_TOKEN
  return undefined
}
