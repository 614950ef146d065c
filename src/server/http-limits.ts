// HTTP limits and malformed input, with Gunicorn's defaults and status codes. Parser errors
// (llhttp) arrive as `clientError`; the limits llhttp does not know (request line, field count,
// field size, body size, HTTP version) are checked on the parsed head before the app runs.
// Either way the client gets a short 4xx with a reason and the connection is closed.
import type { IncomingMessage } from 'node:http'
import type { Rejection } from '../net/reject-on-socket.ts'

export interface HttpLimits {
  limitRequestLine: number
  limitRequestFields: number
  limitRequestFieldSize: number
  limitRequestBody: number
}

/**
 * The head size node's parser must accept so that our own, more precise checks can answer:
 * the request line plus every allowed field, capped so one connection cannot pin much memory.
 */
export function maxHeaderSize(l: HttpLimits): number {
  const all = l.limitRequestLine + 2 + l.limitRequestFields * (l.limitRequestFieldSize + 2) + 2
  return Math.min(all, Math.max(64 * 1024, l.limitRequestLine + l.limitRequestFieldSize + 4))
}

/** Maps a node/llhttp client error to a status and a reason the client may read. */
export function rejectionForParseError(err: Error & { code?: string; rawPacket?: Buffer }, limits: HttpLimits): Rejection {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'request timeout: the request head was not received in time' }
    case 'HPE_HEADER_OVERFLOW': {
      // The head outgrew the parser before our checks could run. Tell a long request line apart
      // from the packet that overflowed: it starts a request line, or ends one (` HTTP/1.1`).
      const raw = err.rawPacket
      if (raw) {
        const nl = raw.indexOf(0x0a)
        const line = raw.toString('latin1', 0, nl === -1 ? Math.min(raw.length, 256) : nl)
        if (/^[A-Z]+ \S/.test(line) && (nl === -1 || nl > limits.limitRequestLine)) return { status: 414, reason: 'request line too long' }
        if (nl !== -1 && / HTTP\/\d\.\d\r?$/.test(line)) return { status: 414, reason: 'request line too long' }
      }
      return { status: 431, reason: 'request header fields too large' }
    }
    case 'HPE_INVALID_METHOD':
      return { status: 400, reason: 'invalid method' }
    case 'HPE_INVALID_URL':
      return { status: 400, reason: 'invalid request target' }
    case 'HPE_INVALID_VERSION':
      return { status: 400, reason: 'invalid HTTP version' }
    case 'HPE_INVALID_HEADER_TOKEN':
      return { status: 400, reason: 'invalid header field' }
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return { status: 400, reason: 'invalid or conflicting Content-Length' }
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, reason: 'invalid Transfer-Encoding (or together with Content-Length)' }
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, reason: 'invalid chunk size' }
    case 'HPE_CR_EXPECTED':
    case 'HPE_LF_EXPECTED':
      return { status: 400, reason: 'lines must end with CRLF' }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'chunk extensions too large' }
    default:
      return { status: 400, reason: 'malformed request' }
  }
}

/** Checks a parsed request head against the limits llhttp does not enforce. Runs per request. */
export function checkRequestHead(req: IncomingMessage, l: HttpLimits): Rejection | undefined {
  if (req.httpVersionMajor !== 1) return { status: 400, reason: `unsupported HTTP version ${req.httpVersion}` }
  // Method + SP + target + SP + "HTTP/1.x": the same bytes Gunicorn's limit counts.
  if (req.method!.length + req.url!.length + 10 > l.limitRequestLine) return { status: 414, reason: 'request line too long' }
  const raw = req.rawHeaders
  if (raw.length > l.limitRequestFields * 2) return { status: 431, reason: 'too many header fields' }
  const max = l.limitRequestFieldSize - 2
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length + raw[i + 1]!.length > max) return { status: 431, reason: `header field too large: ${raw[i]!.slice(0, 64)}` }
  }
  if (l.limitRequestBody > 0) {
    const cl = req.headers['content-length']
    if (cl !== undefined && Number(cl) > l.limitRequestBody) return { status: 413, reason: 'request body too large' }
  }
  return undefined
}
