// A final answer written straight to a socket that no HTTP server owns (yet): a request refused
// before HTTP parsing (a bad PROXY header) or after it (a limit), then the connection closed.
// Shared by the app server and the edge.
import type { Socket } from 'node:net'

export interface Rejection {
  status: number
  reason: string
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 414: 'URI Too Long',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
}

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error'
}

/**
 * Writes a final response straight to the socket and closes it; the app never sees the request.
 * @example rejectOnSocket(sock, { status: 400, reason: 'PROXY protocol header too long' })
 */
export function rejectOnSocket(socket: Socket, r: Rejection): void {
  if (socket.writable && !socket.destroyed) {
    const body = `${r.status} ${statusText(r.status)}: ${r.reason}\n`
    socket.end(
      `HTTP/1.1 ${r.status} ${statusText(r.status)}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  }
  // A client that keeps sending must not hold the socket open.
  setTimeout(() => socket.destroy(), 1000).unref()
}
