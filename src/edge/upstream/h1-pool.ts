// The edge's own keep-alive pool for one plain-http or unix-socket upstream (nginx's upstream
// `keepalive`): at most `connections` sockets, idle ones reused most-recent-first, requests queued
// while all are busy. Replaces undici for these upstreams because per proxied request undici's
// generic machinery (request objects, wasm parser callbacks, header arrays) cost more CPU than the
// rest of the proxy path together; the numbers are in docs/benchmarks.md (edge proxy).
import type net from 'node:net'
import { register, unregister, type Ticking } from './coarse-clock.ts'
import { H1Connection, upstreamError, type ConnectionOwner } from './h1-connection.ts'
import { Exchange, type ExchangeOwner, type UpstreamHandler, type UpstreamRequest } from './h1-exchange.ts'

export interface H1PoolOptions {
  connect: net.NetConnectOpts
  /** Most connections open at once. */
  connections: number
  /** Idle connections close after this (ms). */
  idleTimeout: number
  connectTimeout: number
}

export class H1Pool implements ConnectionOwner, ExchangeOwner, Ticking {
  readonly connectOptions: net.NetConnectOpts
  readonly connectTimeout: number
  readonly #max: number
  readonly #idleTimeout: number
  #all = new Set<H1Connection>()
  /** Idle connections; the last one is the most recently used. */
  #idle: H1Connection[] = []
  #queue: Exchange[] = []
  #busy = 0
  #closed = false
  #whenIdle: (() => void) | undefined

  constructor(opts: H1PoolOptions) {
    this.connectOptions = opts.connect
    this.connectTimeout = opts.connectTimeout
    this.#max = opts.connections
    this.#idleTimeout = opts.idleTimeout
  }

  /** Sends `request`; the outcome arrives through `handler` (never thrown). */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    if (this.#closed) {
      handler.onResponseError?.(undefined, upstreamError('upstream pool is closed', 'CW_UPSTREAM_CLOSED'))
      return false
    }
    let ex: Exchange
    try {
      ex = new Exchange(this, request, handler)
    } catch (err) {
      handler.onResponseError?.(undefined, err as Error)
      return false
    }
    this.#busy++
    const idle = this.#idle.pop()
    if (idle !== undefined) idle.send(ex)
    else if (this.#all.size < this.#max) this.#open().send(ex)
    else this.#queue.push(ex)
    return true
  }

  /** Open connections (for tests and status). */
  get size(): number {
    return this.#all.size
  }

  #open(): H1Connection {
    const c = new H1Connection(this, this.#idleTimeout)
    if (this.#all.size === 0) register(this)
    this.#all.add(c)
    return c
  }

  tick(now: number): void {
    for (const c of this.#all) c.tick(now)
  }

  released(c: H1Connection): void {
    const next = this.#queue.shift()
    if (next !== undefined) c.send(next)
    else if (this.#closed) c.destroy()
    else this.#idle.push(c)
  }

  removed(c: H1Connection, retry: Exchange | undefined): void {
    if (!this.#all.delete(c)) return
    const i = this.#idle.indexOf(c)
    if (i !== -1) this.#idle.splice(i, 1)
    if (this.#all.size === 0) unregister(this)
    // The keep-alive race: the same request again, on a fresh connection (a slot was just freed).
    if (retry !== undefined) this.#open().send(retry)
    else if (this.#queue.length > 0 && this.#all.size < this.#max && !this.#closed) this.#open().send(this.#queue.shift()!)
  }

  finished(): void {
    this.#busy--
    if (this.#busy === 0) this.#whenIdle?.()
  }

  dequeue(ex: Exchange): void {
    const i = this.#queue.indexOf(ex)
    if (i !== -1) this.#queue.splice(i, 1)
  }

  /** Graceful: no new requests; in-flight ones finish, then every connection closes. */
  async close(): Promise<void> {
    this.#closed = true
    for (const c of this.#idle.splice(0)) c.destroy()
    if (this.#busy > 0) await new Promise<void>((resolve) => { this.#whenIdle = resolve })
    for (const c of [...this.#all]) c.destroy()
  }

  /** At once: in-flight and queued requests fail. */
  async destroy(): Promise<void> {
    this.#closed = true
    const err = upstreamError('upstream pool destroyed', 'CW_UPSTREAM_CLOSED')
    for (const ex of this.#queue.splice(0)) ex.fail(err)
    for (const c of [...this.#all]) c.destroy()
  }
}
