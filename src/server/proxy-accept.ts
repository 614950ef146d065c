// Reads a PROXY protocol header off a fresh connection (src/net/proxy-accept.ts), then hands the
// socket to the HTTP server as if it had just connected. Only peers in `proxyAllowIps` may send
// one (and must); anyone else sending one gets 400.
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { readProxyHeader } from '../net/proxy-accept.ts'
import type { CidrSet } from '../net/ip.ts'
import { rejectOnSocket } from '../net/reject-on-socket.ts'

export function acceptProxyHeader(sock: Socket, server: Server, allowed: CidrSet, timeoutMs: number): void {
  readProxyHeader(sock, allowed, timeoutMs, {
    allowedKey: 'proxyAllowIps',
    accept(s) {
      server.emit('connection', s)
      s.resume()
    },
    refuse(s, status, reason) {
      rejectOnSocket(s, { status, reason })
    },
  })
}
