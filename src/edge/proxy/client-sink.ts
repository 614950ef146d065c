// The common response sink: the upstream's response written to the client with backpressure.
import { ServerResponse, type OutgoingHttpHeaders } from 'node:http'
import type { EdgeContext } from '../context.ts'
import type { CompressionFilter } from '../filters/compress.ts'
import { stripInternalFrom } from '../filters/strip-internal.ts'
import type { Upstream } from '../upstream/upstream.ts'
import type { Resumable, ResponseSink } from './forward.ts'
import { copyResponseHeaders, downstreamResponseHeaders } from './headers.ts'

/** Last changes to response headers before they are written (sticky cookie, X-Cache). */
export type HeadDecorator = (headers: OutgoingHttpHeaders, upstream: Upstream | undefined, status: number) => void

/**
 * The response filters a sink applies itself, at the head, when the proxy action owns them (no
 * response cache): the engine then installs no writeHead hook for them.
 */
export interface SinkFilters {
  compress: CompressionFilter | null
}

export class ClientSink implements ResponseSink {
  readonly ctx: EdgeContext
  #res: ServerResponse
  #decorate: HeadDecorator | undefined
  #filters: SinkFilters | undefined
  /** Body bytes still to come by the upstream's Content-Length (-1 = unknown). */
  #left = -1

  constructor(ctx: EdgeContext, decorate?: HeadDecorator, filters?: SinkFilters) {
    this.ctx = ctx
    // The HTTP/2 compatibility response has the same surface for what is used here.
    this.#res = ctx.res as ServerResponse
    this.#decorate = decorate
    this.#filters = filters
  }

  start(status: number, raw: OutgoingHttpHeaders, upstream: Upstream): void {
    this.ctx.notes.upstreamStatus = status
    const cl = raw['content-length']
    if (typeof cl === 'string') this.#left = Number(cl)
    const res = this.#res
    const filters = this.#filters
    if (filters !== undefined) stripInternalFrom(this.ctx, raw)
    if (this.#decorate === undefined) {
      // The common case: the upstream's headers go straight into the response, hop-by-hop ones left out.
      if (res.destroyed) return
      copyResponseHeaders(raw as Record<string, string | string[] | undefined>, res)
      if (filters !== undefined && filters.compress !== null) filters.compress.atHead(this.ctx, status)
      res.writeHead(status)
      return
    }
    const headers = downstreamResponseHeaders(raw as Record<string, string | string[] | undefined>)
    this.#decorate(headers, upstream, status)
    // The client is gone: nothing to write (the action's close handler aborts the upstream).
    if (res.destroyed) return
    if (filters !== undefined && filters.compress !== null) {
      // The filter reads the head from the response: set it there first.
      copyResponseHeaders(headers as Record<string, string | string[] | undefined>, res)
      filters.compress.atHead(this.ctx, status)
      res.writeHead(status)
      return
    }
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

  /**
   * The last chunk is no longer referenced: not written (the client is gone), or written through
   * to the kernel — nothing waits on the HTTP/1 response or its socket (a write queued behind a
   * full socket, a cork until the next tick, a pipelined response's turn), and no compressor took
   * it. HTTP/2 streams queue what they are given: taken to keep it.
   */
  released(): boolean {
    const res = this.#res
    return res.destroyed || (res instanceof ServerResponse && res.writableLength === 0 && this.ctx.notes.compressed === undefined)
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
