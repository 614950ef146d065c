// The firewall benches' shared setup (bench/firewall.ts, bench/firewall-instructions.ts): the edge
// config with and without the firewall, the realistic firewall section, and the load's 1,000
// client addresses with browser user agents. One definition, so every figure measures the same.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The targets: no firewall, the firewall on the memory store, on Redis. */
export type FirewallTarget = 'off' | 'memory' | 'redis'

export const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
]

/** Client k of 1,000 (k = 0…999): 10.x.y.7. */
export const clientAddress = (k: number) => `10.${Math.floor(k / 256)}.${k % 256}.7`

/** Writes the allow and deny list files the firewall section names into `dir`. */
export function writeListFiles(dir: string): void {
  writeFileSync(join(dir, 'allow.txt'), '# office\n192.0.2.0/24\n2001:db8:aaaa::/48\n')
  writeFileSync(join(dir, 'deny.txt'), '# known abusers\n198.51.100.0/24\n203.0.113.7\n2001:db8:dead::/48\n')
}

/**
 * A realistic firewall section, not a minimal one: a limit_req zone per client (burst high enough
 * that the load is never rejected: the cost measured is the check, not 429s), a per-client
 * connection limit, the default bot/probe rules and malformed-request checks, allow and deny lists.
 */
export function firewallSection(store: 'memory' | 'redis', dir: string, redis: { url: string; prefix: string }): Record<string, unknown> {
  return {
    store,
    ...(store === 'redis' ? { redisUrl: redis.url, redisPrefix: redis.prefix } : {}),
    trustedProxies: ['127.0.0.1'],
    zones: [{ name: 'per-client', rate: '10000r/s', burst: 100000, nodelay: true }],
    connectionsPerClient: 1024,
    allow: ['10.200.0.0/16'],
    allowFiles: [join(dir, 'allow.txt')],
    deny: ['192.0.2.66', '2001:db8:bad::/48'],
    denyFiles: [join(dir, 'deny.txt')],
    bots: {}, // the default scanner/probe list and malformed-request checks
    logBlocks: true,
  }
}

/**
 * The edge: `workers` processes (the same number for every target: compare like with like), a
 * fixed `respond` route (the edge's cheapest, where the stage weighs most) and a proxied one.
 */
export function edgeConfig(o: { port: number; workers: number; upstreamPort: number; firewall?: Record<string, unknown> }): Record<string, unknown> {
  return {
    edge: {
      workers: o.workers,
      listen: [{ port: o.port }],
      trustedProxies: ['127.0.0.1'],
      accessLog: { format: 'off' },
      upstreams: { app: { targets: [`http://127.0.0.1:${o.upstreamPort}`], keepalive: { connections: 128 } } },
      routes: [
        { name: 'fixed', match: { path: '/fixed' }, action: { respond: { body: 'ok\n' } } },
        { name: 'app', match: { pathPrefix: '/app/' }, action: { proxy: { pool: 'app' } } },
      ],
    },
    journey: { enabled: false },
    ...(o.firewall ? { firewall: o.firewall } : {}),
  }
}
