// The app server master of `causeway up`: `serve()` from src/server with the internal bind the
// supervisor chose, in its own process so its crash never takes the edge down. Exits with the
// master's code; a lost parent (the supervisor was killed) stops it gracefully.
import { serve } from '../server/index.ts'

const app = process.env.CAUSEWAY_UP_APP
const bind = process.env.CAUSEWAY_UP_BIND
if (!app || !bind) throw new Error('server-child: CAUSEWAY_UP_APP / CAUSEWAY_UP_BIND not set (started by causeway up)')

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
try {
  // The edge in front keeps long-lived keep-alive connections: with a shared socket each is
  // accepted by a worker that is free at the time, rather than dealt out in turn (server.accept).
  const code = await serve({ app, configFile: process.env.CAUSEWAY_UP_CONFIG || undefined, cwd: process.env.CAUSEWAY_UP_ROOT, flags: { bind: bind.split(',') }, defaults: { accept: 'shared' } })
  process.exit(code)
} catch (e) {
  const err = e as Error & { code?: string }
  const config = err.code === 'CW_ERR_CONFIG'
  process.send?.({ type: 'error', message: err.message, config })
  console.error(`app server: ${config ? err.message : (err.stack ?? err.message)}`)
  process.exit(config ? 2 : 1)
}
