// The project's database setup from causeway.config.ts: settings, the models module, the
// migrations folder, a connection. The CLI commands and the app's ready() use it.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig } from '../config.ts'
import { ConfigError } from '../errors.ts'
import { resolveDbSettings, type DbSettings } from './settings.ts'
import { connect, setConnection, type Connection } from './connection.ts'
import type { ModelMeta } from './meta.ts'
import type { AnyModel } from './types.ts'

export interface DbProject {
  root: string
  configFile?: string
  settings: DbSettings
  modelsFile: string
  migrationsDir: string
  /** Imports the models module and returns the models it exports. */
  models(): Promise<AnyModel[]>
  /** Opens the connection and makes it the process default. */
  connect(): Connection
}

/**
 * @example const project = await loadDbProject({ config: 'causeway.config.ts' })
 */
export async function loadDbProject(opts: { config?: string; dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DbProject> {
  const loaded = await loadConfig({ file: opts.config, dir: opts.dir })
  const settings = resolveDbSettings(loaded.config.db ?? {}, opts.env ?? process.env)
  const root = loaded.root
  const modelsFile = resolve(root, settings.models)
  const migrationsDir = resolve(root, settings.migrations)
  return {
    root,
    configFile: loaded.file,
    settings,
    modelsFile,
    migrationsDir,
    async models() {
      if (!existsSync(modelsFile)) throw new ConfigError('db.models', `models module not found: ${modelsFile}`)
      const mod = await import(pathToFileURL(modelsFile).href) as Record<string, unknown>
      const found = new Set<AnyModel>()
      for (const v of Object.values(mod)) {
        if (isModel(v)) found.add(v)
        else if (Array.isArray(v)) v.filter(isModel).forEach((m) => found.add(m))
      }
      if (found.size === 0) throw new ConfigError('db.models', `${modelsFile} exports no models (export each model: export const Product = model(...))`)
      return [...found]
    },
    connect() {
      const conn = connect(settings.url, { root, poolSize: settings.poolSize, pipeline: settings.pipeline, busyTimeout: settings.busyTimeout, connectTimeout: settings.connectTimeout, statementCacheSize: settings.statementCacheSize })
      setConnection(conn)
      return conn
    },
  }
}

// Duck-typed rather than instanceof: the models module may reach this package by another path.
function isModel(v: unknown): v is AnyModel {
  const meta = (v as AnyModel | null)?.meta as ModelMeta | undefined
  return typeof v === 'object' && v !== null && typeof (v as AnyModel).label === 'string' && !!meta && typeof meta.table === 'string' && Array.isArray(meta.fields)
}
