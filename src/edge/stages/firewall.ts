// Stage "firewall": asks the Firewall (src/firewall/contract.ts) for a decision before the action
// runs and reports every response back to it. Delay waits and continues; reject answers with the
// status (and Retry-After); tarpit holds the request, answers slowly, then closes the connection.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Decision, Firewall, FirewallRequest } from '../../firewall/contract.ts'
import type { EdgeContext } from '../context.ts'
import { sendError } from '../errors.ts'

/** The response header an app uses to report a failed login; the firewall reads it, clients never see it. */
export const AUTH_FAILURE_HEADER = 'x-causeway-auth-failure'

export function firewallRequest(ctx: EdgeContext): FirewallRequest {
  return {
    clientAddress: ctx.clientAddress,
    method: ctx.req.method ?? 'GET',
    path: ctx.path,
    headers: ctx.req.headers,
    route: ctx.route?.name,
    httpVersion: ctx.req.httpVersion,
    rawHeaders: ctx.req.rawHeaders,
  }
}

/** Applies a decision. Resolves true when the request may go on to its action. */
async function apply(ctx: EdgeContext, d: Decision): Promise<boolean> {
  switch (d.action) {
    case 'allow':
      return true
    case 'delay':
      ctx.notes.firewall = `delay:${d.rule}`
      await sleep(d.delayMs)
      return !ctx.res.destroyed
    case 'reject': {
      ctx.notes.firewall = `reject:${d.rule}`
      const headers: Record<string, string | number> = {}
      if (d.retryAfterSeconds !== undefined) headers['retry-after'] = Math.max(0, Math.ceil(d.retryAfterSeconds))
      sendError(ctx.res, d.status, d.reason, headers, ctx.req.method === 'HEAD')
      return false
    }
    case 'tarpit': {
      ctx.notes.firewall = `tarpit:${d.rule}`
      await sleep(d.delayMs)
      const { req, res } = ctx
      if (res.destroyed) return false
      if (req.httpVersionMajor !== 2) res.setHeader('connection', 'close')
      sendError(res, d.status, d.reason)
      if (req.httpVersionMajor === 2) res.once('finish', () => req.destroy())
      return false
    }
  }
}

type Settle = (go: boolean | Promise<boolean>) => void
// The stage's promises are made with this one executor, not a closure per request.
const captured: { resolve: Settle | undefined; reject: ((e: unknown) => void) | undefined } = { resolve: undefined, reject: undefined }
const capture = (resolve: Settle, reject: (e: unknown) => void): void => { captured.resolve = resolve; captured.reject = reject }

/**
 * Runs the firewall for one request; resolves true when it may continue.
 * @example if (!(await firewallStage(firewall, ctx, freq))) return
 */
export function firewallStage(fw: Firewall, ctx: EdgeContext, freq: FirewallRequest): boolean | Promise<boolean> {
  if (fw.decideWith !== undefined) {
    // The callback form: one promise per waiting request (this one) instead of a chain of them
    // through the store, the firewall and this stage. decideWith() never calls back before it
    // returns, so `resolve` and `reject` are set by the time it is called.
    let resolve: Settle | undefined
    let reject: ((e: unknown) => void) | undefined
    const now = fw.decideWith(freq, (x, e) => x === undefined ? reject!(e) : resolve!(x.action === 'allow' ? true : apply(ctx, x)))
    if (now !== undefined) return now.action === 'allow' ? true : apply(ctx, now)
    const p = new Promise<boolean>(capture)
    resolve = captured.resolve
    reject = captured.reject
    return p
  }
  const d = fw.decide(freq)
  // An allow (nearly every answer) resolves to `true` itself: handing the promise of the async
  // apply() to then() would cost that promise and two more microtask hops to adopt it.
  if (d instanceof Promise) return d.then((x) => x.action === 'allow' ? true : apply(ctx, x))
  if (d.action === 'allow') return true
  return apply(ctx, d)
}

const NO_HEADERS: Record<string, unknown> = Object.freeze({})

/**
 * Reports the finished response: its status and the one response header the firewall reads, the
 * auth-failure report. Only an app behind the edge (an upstream or in-process app action) makes
 * that report, and stripInternalHeaders() has already moved it from the response to ctx.notes;
 * fixed, static and redirect answers carry none, so the response's headers are not read here.
 */
export function observeResponse(fw: Firewall, ctx: EdgeContext, freq: FirewallRequest): void {
  const auth = ctx.notes.authFailure
  fw.observe(freq, ctx.res.statusCode, auth === undefined ? NO_HEADERS : { [AUTH_FAILURE_HEADER]: auth })
}
