// Removes headers meant for the edge only (the app's login-failure report) before a response
// reaches the client, keeping their value in ctx.notes for the firewall's observe().
import type { EdgeContext } from '../context.ts'
import { AUTH_FAILURE_HEADER } from '../stages/firewall.ts'
import { onHeaders } from './on-headers.ts'

/** @example stripInternalHeaders(ctx) // before a proxy action runs */
export function stripInternalHeaders(ctx: EdgeContext): void {
  const res = ctx.res
  onHeaders(res, () => {
    const v = res.getHeader(AUTH_FAILURE_HEADER)
    if (v !== undefined) {
      ctx.notes.authFailure = Array.isArray(v) ? v.join(', ') : String(v)
      res.removeHeader(AUTH_FAILURE_HEADER)
    }
  })
}

/**
 * The same for an action that holds the upstream's head as an object before anything is set on
 * the response (the proxy's client sink): one lookup, and no writeHead hook.
 */
export function stripInternalFrom(ctx: EdgeContext, headers: Record<string, unknown>): void {
  const v = headers[AUTH_FAILURE_HEADER]
  if (v === undefined) return
  ctx.notes.authFailure = Array.isArray(v) ? v.join(', ') : String(v)
  delete headers[AUTH_FAILURE_HEADER]
}
