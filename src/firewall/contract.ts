// The contract between the edge and the firewall stage: the edge builds a FirewallRequest after
// it has identified the client, asks for a Decision before routing, reports each response back,
// and asks before accepting a connection. The firewall can also run as its own process (the edge
// engine with only this stage and a proxy route).
import type { IncomingHttpHeaders } from 'node:http'

export interface FirewallRequest {
  /** The client address after trusted-proxy processing (src/net/ip.ts clientAddressFrom). */
  clientAddress: string
  method: string
  /** Path without query string, as received. */
  path: string
  headers: IncomingHttpHeaders
  /** Name of the edge route that matched, for per-route zones (undefined before routing). */
  route?: string
  /** `req.httpVersion` ('1.0', '1.1', '2.0'): a missing Host is malformed only on HTTP/1.1. */
  httpVersion?: string
  /**
   * `req.rawHeaders` (name, value, name, value, …) when the caller has them: the malformed-request
   * check then counts and measures header lines as received (as nginx does), without walking the
   * merged `headers` object.
   */
  rawHeaders?: readonly string[]
}

export type Decision =
  | { action: 'allow' }
  /** Let it through after waiting (limit_req without nodelay). */
  | { action: 'delay'; delayMs: number; rule: string }
  /** Answer now with this status (429 + Retry-After for limits, 403 for lists and bans). */
  | { action: 'reject'; status: number; retryAfterSeconds?: number; rule: string; reason: string }
  /** Hold the connection open, answer slowly, then close (for scanners). */
  | { action: 'tarpit'; delayMs: number; status: number; rule: string; reason: string }

/** Receives a decision that was not at hand at once (decideWith()), or what went wrong making it. */
export type DecisionCallback = (d: Decision | undefined, error?: unknown) => void

export interface Firewall {
  decide(req: FirewallRequest): Decision | Promise<Decision>
  /**
   * decide() without promises, for the edge's per-request path: returns the decision when it is at
   * hand (lists, bot rules, an in-memory store), else undefined and calls `done` exactly once
   * later (never before returning) with the decision, or with undefined and the error.
   */
  decideWith?(req: FirewallRequest, done: DecisionCallback): Decision | undefined
  /**
   * A response went out: feeds the 401/403/404-burst and app-reported login-failure triggers. The
   * edge passes only the headers the firewall reads (`x-causeway-auth-failure`), not all of them.
   */
  observe(req: FirewallRequest, status: number, responseHeaders: Record<string, unknown>): void
  /** A connection opened: returns a release function, or a Decision to refuse it (limit_conn). */
  connect(clientAddress: string): (() => void) | Decision
  close(): Promise<void>
}
