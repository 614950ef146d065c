// The traced side of bench/firewall-instructions.ts: one edge, built from a JSON config, in this
// process until stdin closes. Bundled (esbuild) before it runs, so that under valgrind no time goes
// to compiling TypeScript.
import { readFileSync } from 'node:fs'
import { createEdge } from '../src/edge/index.ts'
import { createFirewall, RedisStore } from '../src/firewall/index.ts'

const [configFile, root] = process.argv.slice(2)
const config = JSON.parse(readFileSync(configFile!, 'utf8')) as Record<string, unknown>
// The firewall the edge would build from its section, built here so that the Redis store can be
// awaited: measuring starts with Redis in use, not with its local fallback.
const firewall = config.firewall ? createFirewall(config.firewall as Record<string, unknown>, { root }) : undefined
if (firewall?.store instanceof RedisStore) await firewall.store.ready(120_000)
const edge = createEdge(config as never, { root, firewall })
await edge.listen()
process.stdout.write(`port ${edge.addresses[0]!.port}\n`)
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
