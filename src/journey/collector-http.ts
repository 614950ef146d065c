// The collector's OTLP/HTTP receiver: POST /v1/traces with a JSON body (optionally gzip), as the
// OTLP specification defines it, or in Causeway's compact encoding (compact-spans.ts), which every
// answer offers in its Accept-Post header so that Causeway's own exporters switch to it. Bad
// requests get a status and a reason in OTLP's error shape ({ code, message }): 400 malformed,
// 405 wrong method, 413 too large, 415 protobuf or unknown encoding. Nothing from a bad body ever
// throws out of the handler.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gunzip } from 'node:zlib'
import { OtlpDecodeError } from './otlp-decode.ts'
import { COMPACT_SPANS_TYPE } from './compact-spans.ts'
import type { Collector } from './collector.ts'

export type CollectorHandler = (req: IncomingMessage, res: ServerResponse) => boolean

// google.rpc.Status codes, which OTLP uses for error bodies.
const RPC = { 400: 3, 405: 12, 413: 8, 415: 3, 500: 13 } as const
const ACCEPT_POST = `application/json, ${COMPACT_SPANS_TYPE}`

function reply(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return
  const json = JSON.stringify(body)
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'accept-post': ACCEPT_POST }
  if (close) headers.connection = 'close'
  if (status === 405) headers.allow = 'POST'
  res.writeHead(status, headers)
  res.end(json)
}

function refuse(collector: Collector, res: ServerResponse, status: keyof typeof RPC, message: string, close = false): void {
  collector.countRejected()
  reply(res, status, { code: RPC[status], message }, close)
}

export function createCollectorHandler(collector: Collector): CollectorHandler {
  const { path, maxBodyBytes } = collector.options
  return (req, res) => {
    const url = req.url ?? ''
    const q = url.indexOf('?')
    if ((q === -1 ? url : url.slice(0, q)) !== path) return false
    if (req.method !== 'POST') {
      refuse(collector, res, 405, `use POST ${path}`)
      req.resume()
      return true
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    const compact = type === COMPACT_SPANS_TYPE
    if (type !== 'application/json' && !compact) {
      const hint = type === 'application/x-protobuf' ? ' (protobuf is not supported: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json)' : ''
      refuse(collector, res, 415, `content-type must be application/json, got ${JSON.stringify(type)}${hint}`)
      req.resume()
      return true
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
    if (encoding !== 'identity' && encoding !== 'gzip') {
      refuse(collector, res, 415, `content-encoding must be gzip or identity, got ${JSON.stringify(encoding)}`)
      req.resume()
      return true
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > maxBodyBytes) {
      refuse(collector, res, 413, `body of ${declared} bytes exceeds the limit of ${maxBodyBytes}`, true)
      req.resume()
      return true
    }
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > maxBodyBytes) {
        over = true
        chunks.length = 0
        refuse(collector, res, 413, `body exceeds the limit of ${maxBodyBytes} bytes`, true)
        return
      }
      chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (over) return
      const raw = Buffer.concat(chunks, size)
      if (encoding === 'gzip') {
        gunzip(raw, { maxOutputLength: maxBodyBytes }, (err, out) => {
          if (!err) return finish(out)
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
            refuse(collector, res, 413, `decompressed body exceeds the limit of ${maxBodyBytes} bytes`)
          } else {
            refuse(collector, res, 400, `malformed gzip body: ${err.message}`)
          }
        })
      } else {
        finish(raw)
      }
    })
    const finish = (raw: Buffer) => {
      let body: unknown
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch (e) {
        return refuse(collector, res, 400, `malformed JSON: ${(e as Error).message}`)
      }
      try {
        const { rejected } = compact ? collector.ingestCompact(body) : collector.ingest(body)
        // OTLP's partial success: the request was fine, some spans were over the per-trace limit.
        reply(res, 200, rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: 'trace span limit reached' } } : {})
      } catch (e) {
        if (e instanceof OtlpDecodeError) return refuse(collector, res, 400, `invalid ${compact ? 'span batch' : 'OTLP'}: ${e.message}`)
        refuse(collector, res, 500, 'collector error')
      }
    }
    return true
  }
}

export interface CollectorServer {
  server: import('node:http').Server
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:43117 */
  url: string
  close(): Promise<void>
}

/**
 * Serves the collector's OTLP endpoint on its own listener (loopback by default: anyone who can
 * post spans can fill the dashboard).
 * @example const { url } = await listenCollector(collector) // workers: OTEL_EXPORTER_OTLP_ENDPOINT=url
 */
export async function listenCollector(collector: Collector, options: { host?: string; port?: number } = {}): Promise<CollectorServer> {
  const http = await import('node:http')
  const server = http.createServer(collector.listener)
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as import('node:net').AddressInfo
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    server,
    url: `http://${h}:${addr.port}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    }),
  }
}
