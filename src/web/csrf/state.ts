// The per-request CSRF state the middleware keeps, and the functions others call (login rotates
// the token). Kept apart so auth can rotate without importing the middleware.
import type { HttpRequest } from '../request.ts'
import { maskSecret, newSecret } from './tokens.ts'

export const CSRF = Symbol('causeway.csrf')

export interface CsrfState {
  /** The secret from the cookie/session (undefined: none or invalid). */
  secret: string | undefined
  /** A token was used on this page (or the secret rotated): the response varies on Cookie and is not shared by caches. */
  needsUpdate: boolean
  /** The secret is new on this request (none came in, or it was rotated): the response sends the cookie. */
  fresh?: boolean
  /** The masked token for this response (one per request). */
  masked?: string
}

export function csrfState(req: HttpRequest): CsrfState | undefined {
  return (req.state as Record<symbol, CsrfState | undefined>)[CSRF]
}

/**
 * The masked token for forms and the X-CSRFToken header (Django's get_token). Using it makes the
 * response vary on Cookie, and send the CSRF cookie when the secret is new (Django 4.1+: a
 * cookie the client already holds is not resent on every page). Empty string when the CSRF
 * middleware is not installed.
 * @example json({ csrfToken: getCsrfToken(req) })
 */
export function getCsrfToken(req: HttpRequest): string {
  return tokenOf(csrfState(req))
}

/** getCsrfToken for the request whose state this is (the lazy `req.state.csrfToken` getter). */
export function tokenOf(st: CsrfState | undefined): string {
  if (!st) return ''
  if (st.secret === undefined) {
    st.secret = newSecret()
    st.fresh = true
  }
  st.needsUpdate = true
  return (st.masked ??= maskSecret(st.secret))
}

/** A new secret (after login), so a token seen before the login is worthless after it. */
export function rotateCsrfToken(req: HttpRequest): void {
  const st = csrfState(req)
  if (!st) return
  st.secret = newSecret()
  st.masked = undefined
  st.needsUpdate = true
  st.fresh = true
}
