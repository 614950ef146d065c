// One "generation" of the edge: everything built from one config (routes with their actions,
// filters, firewall, log, file cache). A reload builds a new generation next to the old one; new
// requests use the new one, in-flight requests finish on the one they started with, and the old
// generation's resources are released when its last request ends.
import type { EdgeAction } from './context.ts'
import type { Firewall } from '../firewall/contract.ts'
import type { EdgeSettings, RouteSettings } from './config/validate.ts'
import { compileMatch, type CompiledRoute } from './routes/matcher.ts'
import { createCompressionFilter, type CompressionFilter } from './filters/compress.ts'
import { OpenFileCache } from './static/file-cache.ts'
import { createStaticAction } from './static/action.ts'
import { createRedirectAction } from './actions/redirect.ts'
import { createRespondAction } from './actions/respond.ts'
import { AccessLog } from './log/access-log.ts'

/** What an action factory gets: the route's settings and the generation's shared parts. */
export interface ActionBuildContext {
  route: RouteSettings
  settings: EdgeSettings
  /** The whole `edge` section as given (e.g. `upstreams` for the proxy). */
  section: Record<string, unknown>
  fileCache: OpenFileCache
  /** The generation's compression filter (null: off), for actions that apply it themselves. */
  compress: CompressionFilter | null
}

/** Builds the action for routes whose `action` has this factory's name. */
export type ActionFactory = (spec: Record<string, unknown>, b: ActionBuildContext) => EdgeAction | Promise<EdgeAction>

export interface RouteEntry extends CompiledRoute<EdgeAction> {
  /** Actions whose responses may carry upstream headers get the internal-header filter. */
  upstream: boolean
}

export interface Generation {
  settings: EdgeSettings
  routes: RouteEntry[]
  compress: CompressionFilter | null
  /** Shared across generations while the `firewall` section is unchanged; the engine closes it. */
  firewall: Firewall | null
  log: AccessLog
  fileCache: OpenFileCache
  inflight: number
  retired: boolean
  /** Extra resources to release with the generation (e.g. upstream pools). */
  cleanups: (() => Promise<void> | void)[]
}

const LOCAL_KINDS = new Set(['static', 'redirect', 'respond'])

export async function buildGeneration(
  settings: EdgeSettings,
  section: Record<string, unknown>,
  factories: Record<string, ActionFactory>,
  firewall: Firewall | null,
  logOut?: NodeJS.WritableStream,
): Promise<Generation> {
  const fileCache = new OpenFileCache(settings.openFileCache)
  const gen: Generation = {
    settings,
    routes: [],
    compress: createCompressionFilter(settings.compression),
    firewall,
    log: new AccessLog(settings.accessLog, logOut),
    fileCache,
    inflight: 0,
    retired: false,
    cleanups: [],
  }
  try {
    for (const r of settings.routes) {
      const b: ActionBuildContext = { route: r, settings, section, fileCache, compress: gen.compress }
      const a = r.action
      let action: EdgeAction
      if (a.kind === 'static') {
        action = createStaticAction((a as { static: Parameters<typeof createStaticAction>[0] }).static, { cache: fileCache, compression: settings.compression, pathPrefix: r.match.pathPrefix, maxDirect: settings.openFileCache.maxEntries, compress: gen.compress })
      } else if (a.kind === 'redirect') {
        action = createRedirectAction({ ...(a as { redirect: { status: number; to: string } }).redirect, pattern: r.match.pattern })
      } else if (a.kind === 'respond') {
        action = createRespondAction((a as { respond: { status: number; body: string; headers: Record<string, string> } }).respond)
      } else {
        const f = factories[a.kind]
        if (!f) throw new Error(`no factory for action ${a.kind}`)
        action = await f((a as Record<string, unknown>)[a.kind] as Record<string, unknown>, b)
      }
      gen.routes.push({
        name: r.name,
        index: r.index,
        test: compileMatch(r.match),
        action,
        maxBodySize: r.maxBodySize,
        settings: r,
        upstream: !LOCAL_KINDS.has(a.kind),
      })
    }
  } catch (e) {
    await closeGeneration(gen)
    throw e
  }
  return gen
}

/** Releases a generation's actions, file descriptors, log file and cleanups. */
export async function closeGeneration(gen: Generation): Promise<void> {
  await Promise.allSettled(gen.routes.map((r) => r.action.close?.()))
  await Promise.allSettled(gen.cleanups.map((c) => c()))
  gen.fileCache.close()
  await gen.log.close()
}
