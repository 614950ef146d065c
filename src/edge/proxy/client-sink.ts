// The common response sink: the upstream's response written to the client with backpressure.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { EdgeContext } from '../context.ts'
import type { Upstream } from '../upstream/upstream.ts'
import type { Resumable, ResponseSink } from './forward.ts'
import { copyResponseHeaders, downstreamResponseHeaders } from './headers.ts'

/** Last changes to response headers before they are written (sticky cookie, X-Cache). */
export type HeadDecorator = (headers: OutgoingHttpHeaders, upstream: Upstream | undefined, status: number) => void

export class ClientSink implements ResponseSink {
  readonly ctx: EdgeContext
  #res: ServerResponse
  #decorate: HeadDecorator | undefined
  /** Body bytes still to come by the upstream's Content-Length (-1 = unknown). */
  #left = -1

  constructor(ctx: EdgeContext, decorate?: HeadDecorator) {
    this.ctx = ctx
    // The HTTP/2 compatibility response has the same surface for what is used here.
    this.#res = ctx.res as ServerResponse
    this.#decorate = decorate
  }

  start(status: number, raw: OutgoingHttpHeaders, upstream: Upstream): void {
    this.ctx.notes.upstreamStatus = status
    const cl = raw['content-length']
    if (typeof cl === 'string') this.#left = Number(cl)
    const res = this.#res
    if (this.#decorate === undefined) {
      // The common case: the upstream's headers go straight into the response, hop-by-hop ones left out.
      if (res.destroyed) return
      copyResponseHeaders(raw as Record<string, string | string[] | undefined>, res)
      res.writeHead(status)
      return
    }
    const headers = downstreamResponseHeaders(raw as Record<string, string | string[] | undefined>)
    this.#decorate(headers, upstream, status)
    // The client is gone: nothing to write (the action's close handler aborts the upstream).
    if (res.destroyed) return
    res.writeHead(status, headers)
  }

  data(chunk: Buffer, flow: Resumable): boolean {
    const res = this.#res
    if (res.destroyed) return true
    // The last bytes by Content-Length (most often the only ones): one end() instead of write() + end().
    if (this.#left >= 0 && (this.#left -= chunk.length) <= 0) {
      res.end(chunk)
      return true
    }
    if (res.write(chunk)) return true
    res.once('drain', () => flow.resume())
    return false
  }

  end(): void {
    if (!this.#res.writableEnded) this.#res.end()
  }

  fail(err: Error): void {
    // The status line is out: the only honest signal left is a cut connection.
    this.ctx.notes.proxyError = err.message
    this.#res.destroy()
  }
}
