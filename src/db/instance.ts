// Model instances (rows): values as own properties, FK accessors and relation managers on the
// prototype, save/delete/refresh. One class per model, built once at declaration.
import type { FieldMeta, ModelMeta } from './meta.ts'
import { UsageError } from './errors.ts'
import { currentExecutor } from './transaction.ts'
import { insertRows, updateRow } from './query/write.ts'
import { collectAndDelete, type DeleteResult } from './deletion.ts'
import { RelatedManager } from './related.ts'

export const STATE = Symbol('causeway.rowState')

/** Per-row bookkeeping. The map of related rows is made on first use: most rows never need one. */
export class RowState {
  /** Not yet in the database: save() inserts. */
  adding = true
  #related: Map<string, unknown> | undefined = undefined

  /** Loaded related rows (selectRelated/prefetchRelated) and relation managers, by field name. */
  get related(): Map<string, unknown> {
    return (this.#related ??= new Map())
  }
}

export interface SaveOptions {
  /** Only write these fields (UPDATE only). */
  updateFields?: string[]
  forceInsert?: boolean
}

export interface InstanceMethods {
  /** The primary key value. */
  readonly pk: unknown
  /** INSERT when new, else UPDATE. Applies autoNow/autoNowAdd. */
  save(options?: SaveOptions): Promise<void>
  /** Deletes the row with on-delete rules applied to related rows. */
  delete(): Promise<DeleteResult>
  /** Reloads the values from the database. */
  refresh(): Promise<void>
  /** Loads (and caches) a foreign key's row without selectRelated. */
  load(name: string): Promise<unknown>
  toJSON(): Record<string, unknown>
}

/** The base of every model's row class. */
export class RowBase implements InstanceMethods {
  static meta: ModelMeta
  // Symbol-keyed: invisible to Object.keys, JSON.stringify and template loops over the values.
  [STATE]: RowState = new RowState()

  #meta(): ModelMeta {
    return (this.constructor as typeof RowBase).meta
  }

  get pk(): unknown {
    return (this as unknown as Record<string, unknown>)[this.#meta().pk.attname]
  }

  async save(options: SaveOptions = {}): Promise<void> {
    const meta = this.#meta()
    const self = this as unknown as Record<string, unknown>
    const ex = currentExecutor()
    const adding = this[STATE].adding || options.forceInsert
    preSave(meta, self, !!adding)
    if (!adding) {
      const n = await updateRow(ex, meta, self, options.updateFields)
      if (n > 0 || options.updateFields) return
    }
    const [row] = await insertRows(ex, meta, [self])
    Object.assign(self, row)
    this[STATE].adding = false
  }

  async delete(): Promise<DeleteResult> {
    const meta = this.#meta()
    if (this.pk === null || this.pk === undefined) throw new UsageError(`${meta.label} object can't be deleted because its ${meta.pk.name} is not set`)
    const result = await collectAndDelete(meta, [this.pk])
    this[STATE].adding = true
    return result
  }

  async refresh(): Promise<void> {
    const meta = this.#meta()
    const fresh = await meta.model.objects.get({ pk: this.pk } as never) as Record<string, unknown>
    for (const fm of meta.fields) (this as unknown as Record<string, unknown>)[fm.attname] = fresh[fm.attname]
    this[STATE].related.clear()
  }

  async load(name: string): Promise<unknown> {
    const meta = this.#meta()
    const fm = meta.field(name)
    if (!fm || fm.kind !== 'foreignKey') throw new UsageError(`${meta.label}.${name} is not a foreign key`)
    const v = (this as unknown as Record<string, unknown>)[fm.attname]
    const row = v === null || v === undefined ? null : await fm.target!.model.objects.get({ [fm.targetField!.name]: v } as never)
    this[STATE].related.set(fm.name, row)
    return row
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const fm of this.#meta().fields) out[fm.attname] = (this as unknown as Record<string, unknown>)[fm.attname]
    return out
  }
}

/** Applies autoNow / autoNowAdd before a write. */
export function preSave(meta: ModelMeta, row: Record<string, unknown>, adding: boolean): void {
  for (const fm of meta.fields) {
    const o = fm.options
    if (o.autoNow || (adding && o.autoNowAdd && (row[fm.attname] === undefined || row[fm.attname] === null))) {
      const now = new Date()
      row[fm.attname] = fm.kind === 'date' ? now.toISOString().slice(0, 10) : now
    }
  }
}

/** Defines FK getters/setters and M2M managers on a model's row class. */
export function defineAccessors(cls: typeof RowBase, meta: ModelMeta): void {
  for (const fm of meta.fields) {
    if (fm.kind !== 'foreignKey') continue
    Object.defineProperty(cls.prototype, fm.name, {
      configurable: true,
      get(this: RowBase) {
        const rel = this[STATE].related
        if (rel.has(fm.name)) return rel.get(fm.name)
        const v = (this as unknown as Record<string, unknown>)[fm.attname]
        if (v === null || v === undefined) return null
        throw new UsageError(`${meta.label}.${fm.name} is not loaded: use selectRelated('${fm.name}') or prefetchRelated('${fm.name}') on the query, or await row.load('${fm.name}')`)
      },
      set(this: RowBase, value: unknown) {
        const target = fm.targetField!
        ;(this as unknown as Record<string, unknown>)[fm.attname] = value === null || value === undefined ? null
          : typeof value === 'object' ? (value as Record<string, unknown>)[target.attname] : value
        if (value !== null && typeof value === 'object') this[STATE].related.set(fm.name, value)
        else this[STATE].related.delete(fm.name)
      },
    })
  }
  for (const fm of meta.manyToMany) defineManager(cls, fm.name, () => ({ kind: 'm2m', field: fm }))
}

function defineManager(cls: typeof RowBase, name: string, how: () => { kind: 'm2m' | 'm2mrev' | 'revfk'; field: FieldMeta }): void {
  if (Object.getOwnPropertyDescriptor(cls.prototype, name)) return
  Object.defineProperty(cls.prototype, name, {
    configurable: true,
    get(this: RowBase) {
      const rel = this[STATE].related
      let m = rel.get(`manager:${name}`) as RelatedManager | undefined
      if (!m) {
        const h = how()
        m = new RelatedManager(this, h.kind, h.field)
        rel.set(`manager:${name}`, m)
      }
      return m
    },
  })
}

// Reverse accessors (`category.products`) depend on models declared elsewhere, so they are added
// when rows are first built and again whenever the registry changed.
const accessorVersion = new WeakMap<ModelMeta, number>()
export function ensureReverseAccessors(cls: typeof RowBase, meta: ModelMeta, version: number): void {
  if (accessorVersion.get(meta) === version) return
  accessorVersion.set(meta, version)
  for (const rel of meta.reverseRelations()) {
    if (rel.name.startsWith('+')) continue
    if (meta.field(rel.name)) continue
    defineManager(cls, rel.name, () => ({ kind: rel.kind === 'fk' ? 'revfk' : 'm2mrev', field: rel.field }))
  }
}
