// Context processors: functions of the request whose results every rendered template sees
// (Django's). They run only when a template is rendered, never for other responses.
import nunjucks from 'nunjucks'
import type { HttpRequest } from '../request.ts'

export type ContextProcessor = (req: HttpRequest) => Record<string, unknown> | Promise<Record<string, unknown>>

// A replace with a callback runs in V8's runtime even when nothing matches; a masked token never
// has anything to escape, so test first.
const escapeAttr = (s: string) => (/[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) : s)

/** The built-ins, by name. Each reads what other parts put on `req.state`. */
export const builtinContextProcessors: Record<'request' | 'user' | 'messages' | 'csrf', ContextProcessor> = {
  /** `request`: the HttpRequest. */
  request: (req) => ({ request: req }),
  /** `user`: the request's user (loaded through `req.state.auser()` when the auth middleware set it), or null. */
  user: (req) => {
    const loading = userLoading(req)
    return loading === undefined ? { user: req.state.user ?? null } : loading.then((user) => ({ user: user ?? null }))
  },
  /** `messages`: flash messages (loaded through `req.state.loadMessages()` when the messages middleware set it), or []. */
  messages: (req) => {
    const load = req.state.loadMessages as (() => unknown) | undefined
    if (typeof load !== 'function') return { messages: req.state.messages ?? [] }
    // Cookie storage answers at once: no promise, so the render may stay synchronous.
    const loaded = load()
    return loaded instanceof Promise ? loaded.then((messages) => ({ messages: messages ?? [] })) : { messages: loaded ?? [] }
  },
  /**
   * `csrfToken` and `csrfInput` (a ready hidden input for forms). Both read `req.state.csrfToken`
   * only when output, so a CSRF middleware that makes the token on first access (and sets its
   * cookie then) does so only for pages that use it, like Django's lazy csrf_token.
   */
  csrf: (req) => ({ csrfToken: new LazyCsrfToken(req), csrfInput: new LazyCsrfInput(req) }),
}

/**
 * The user still to load for the `user` processor (the auth middleware's lazy loader, nothing has
 * loaded it yet), else undefined: `req.state.user` is the value. The engine awaits this promise
 * itself, without the processor's `{ user }` reaction.
 */
export function userLoading(req: HttpRequest): Promise<unknown> | undefined {
  const load = req.state.auser as (() => Promise<unknown>) | undefined
  if (typeof load !== 'function' || req.state.user !== undefined) return undefined
  return load()
}

// A class with getters rather than Object.create with property descriptors per call: every
// request's values share one shape. Its prototype chains to SafeString's, so nunjucks' escaping
// check (instanceof SafeString) and output (toString/valueOf read `val`) see a SafeString.
class LazySafeString {
  readonly #fn: () => string
  constructor(fn: () => string) {
    this.#fn = fn
  }
  get val(): string {
    return this.#fn()
  }
  get length(): number {
    return this.#fn().length
  }
}
Object.setPrototypeOf(LazySafeString.prototype, nunjucks.runtime.SafeString.prototype)

/**
 * `{{ csrfInput }}`: the hidden input, built when output (a SafeString, as LazySafeString). A page
 * with several forms outputs it several times with the same token (one per response): its HTML
 * is built once per token.
 */
class LazyCsrfInput {
  readonly #req: HttpRequest
  #token: unknown = undefined
  #html = ''
  constructor(req: HttpRequest) {
    this.#req = req
  }
  get val(): string {
    // Read on every output: reading the token is what marks the response as using it.
    const token = this.#req.state.csrfToken
    if (token !== this.#token) {
      this.#token = token
      this.#html = token ? `<input type="hidden" name="csrfmiddlewaretoken" value="${escapeAttr(String(token))}">` : ''
    }
    return this.#html
  }
  get length(): number {
    return this.val.length
  }
}
Object.setPrototypeOf(LazyCsrfInput.prototype, nunjucks.runtime.SafeString.prototype)

/** `{{ csrfToken }}`: reads the token only when output. */
class LazyCsrfToken {
  readonly #req: HttpRequest
  constructor(req: HttpRequest) {
    this.#req = req
  }
  toString(): string {
    return String(this.#req.state.csrfToken ?? '')
  }
}

/** A value nunjucks treats as already-escaped HTML, computed when it is output. */
export function lazySafe(fn: () => string): unknown {
  return new LazySafeString(fn)
}

export type BuiltinProcessorName = keyof typeof builtinContextProcessors
export const DEFAULT_CONTEXT_PROCESSORS: BuiltinProcessorName[] = ['request', 'user', 'messages', 'csrf']
