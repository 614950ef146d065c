// The Nunjucks backend: one Environment for the app's lifetime, autoescape always on, templates
// compiled once and kept (debug mode recompiles those whose file changed), errors turned into
// TemplateError naming the template, file and line.
import nunjucks from 'nunjucks'
import { readdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { DirLoader } from './loader.ts'
import { TemplateDoesNotExist, TemplateError, wrapNunjucksError } from './errors.ts'

// Speed-ups of Nunjucks' hot paths, with the same output. They patch the shared nunjucks module
// (its runtime, compiler and lib objects are module singletons), so every Environment gets them.
//
// 1. Frame.set splits every variable name on '.' (a `for` loop sets 8 names per item: the loop
//    variable and loop.index, loop.first, …). Plain names skip the split; dotted ones split once.
// 2. The compiler emits seven `frame.set("loop.<name>", …)` calls per loop iteration; it now emits
//    one call that writes the same seven properties of the frame's `loop` object (created the same
//    way: a plain object in the loop's own frame, updated in place on every iteration).
// 3. Autoescape ran a global regex replace with a callback over every value output, also over
//    the many that contain nothing to escape; the replacement scans first and returns such strings
//    as they are, and escapes the same six characters to the same entities otherwise.
type FrameLike = { variables: Record<string, unknown>; set(name: string, val: unknown, resolveUp?: boolean): void }
{
  const nj = nunjucks as unknown as {
    runtime: { Frame: { prototype: FrameLike }; causewayLoopBindings?: (frame: FrameLike, i: number, len: number) => void }
    compiler: { Compiler: { prototype: { _emitLine(code: string): void; _emitLoopBindings(node: unknown, arr: string, i: string, len: string): void } } }
    lib: { escape(s: string): string }
  }
  const proto = nj.runtime.Frame.prototype
  const original = proto.set
  const split = new Map<string, string[]>()
  proto.set = function set(this: FrameLike, name, val, resolveUp) {
    if (resolveUp || typeof name !== 'string') return original.call(this, name, val, resolveUp)
    if (name.indexOf('.') === -1) {
      this.variables[name] = val
      return
    }
    let parts = split.get(name)
    if (!parts) split.set(name, (parts = name.split('.')))
    let obj = this.variables as Record<string, Record<string, unknown>>
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i]!
      if (!obj[key]) obj[key] = {}
      obj = obj[key] as Record<string, Record<string, unknown>>
    }
    ;(obj as Record<string, unknown>)[parts[parts.length - 1]!] = val
  }

  nj.runtime.causewayLoopBindings = (frame, i, len) => {
    const vars = frame.variables as Record<string, LoopVars | undefined>
    let loop = vars.loop
    if (!loop) vars.loop = loop = {} as LoopVars
    loop.index = i + 1
    loop.index0 = i
    loop.revindex = len - i
    loop.revindex0 = len - i - 1
    loop.first = i === 0
    loop.last = i === len - 1
    loop.length = len
  }
  // `arr` is unused by the original too; `i` and `len` are the names of the generated variables.
  nj.compiler.Compiler.prototype._emitLoopBindings = function (this: { _emitLine(code: string): void }, _node: unknown, _arr: string, i: string, len: string) {
    this._emitLine(`runtime.causewayLoopBindings(frame, ${i}, ${len});`)
  }

  nj.lib.escape = escapeHtml
}

interface LoopVars { index: number; index0: number; revindex: number; revindex0: number; first: boolean; last: boolean; length: number }

const NEEDS_ESCAPE = /[&"'<>\\]/
const ESCAPABLE = /[&"'<>\\]/g
const ENTITY: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '\\': '&#92;' }
const entity = (c: string): string => ENTITY[c]!

/**
 * Nunjucks' escaping (the same characters and entities as its `lib.escape`): `&"'<>` and
 * backslash. Strings without any of them, the common case, come back as they are.
 * @example escapeHtml('<b>') // '&lt;b&gt;'
 */
export function escapeHtml(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPABLE, entity) : s
}

/** What a template engine needs from a backend (Django's template backend). */
export interface TemplateBackend {
  /** Renders a template by name with a plain context object. */
  render(name: string, context: Record<string, unknown>): string | Promise<string>
  has?(name: string): boolean
  addFilter?(name: string, fn: TemplateFilter): void
  addGlobal?(name: string, value: unknown): void
  precompile?(): { compiled: number; errors: Error[] }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TemplateFilter = (value: any, ...args: any[]) => unknown

export interface NunjucksBackendOptions {
  /** Template directories, searched in order (first found wins). */
  dirs: readonly string[]
  /** Recompile templates whose file changed (checked on each render). Off in production. */
  debug?: boolean
  filters?: Record<string, TemplateFilter>
  globals?: Record<string, unknown>
  /** Whitespace control, passed to nunjucks. */
  trimBlocks?: boolean
  lstripBlocks?: boolean
}

/**
 * @example
 * const backend = new NunjucksBackend({ dirs: ['templates'] })
 * backend.addFilter('money', (cents: number) => (cents / 100).toFixed(2))
 * backend.render('shop/product.html', { product })
 */
export class NunjucksBackend implements TemplateBackend {
  readonly #loader: DirLoader
  readonly #env: nunjucks.Environment
  readonly #debug: boolean
  readonly #compiled = new Map<string, nunjucks.Template>()
  readonly #exists = new Map<string, boolean>()

  constructor(opts: NunjucksBackendOptions) {
    this.#loader = new DirLoader(opts.dirs)
    this.#debug = opts.debug ?? false
    // dev: true keeps nunjucks' own error objects (with line numbers) instead of flattening them.
    this.#env = new nunjucks.Environment(this.#loader as unknown as nunjucks.ILoader, {
      autoescape: true,
      throwOnUndefined: false,
      trimBlocks: opts.trimBlocks ?? false,
      lstripBlocks: opts.lstripBlocks ?? false,
      dev: true,
    } as nunjucks.ConfigureOptions)
    for (const [name, fn] of Object.entries(opts.filters ?? {})) this.addFilter(name, fn)
    for (const [name, value] of Object.entries(opts.globals ?? {})) this.addGlobal(name, value)
  }

  get dirs(): readonly string[] {
    return this.#loader.dirs
  }

  addFilter(name: string, fn: TemplateFilter): void {
    this.#env.addFilter(name, fn)
  }

  addGlobal(name: string, value: unknown): void {
    this.#env.addGlobal(name, value)
  }

  /**
   * Whether a template exists. Outside debug the answer is remembered (error pages ask for
   * '404.html' on every 404; the disk is not asked again), for a bounded number of names.
   */
  has(name: string): boolean {
    if (this.#compiled.has(name)) return true
    if (this.#debug) return this.#loader.has(name)
    let known = this.#exists.get(name)
    if (known === undefined) {
      known = this.#loader.has(name)
      if (this.#exists.size < 1000) this.#exists.set(name, known)
    }
    return known
  }

  render(name: string, context: Record<string, unknown>): string {
    if (this.#debug && this.#loader.changed()) {
      this.#compiled.clear()
      ;(this.#env as unknown as { invalidateCache(): void }).invalidateCache()
      this.#loader.forget()
    }
    try {
      return this.#template(name).render(context)
    } catch (e) {
      throw this.#wrap(e, name)
    }
  }

  /** Compiles every file in the template directories now (at startup), collecting errors. */
  precompile(): { compiled: number; errors: Error[] } {
    const names = new Set<string>()
    for (const dir of this.#loader.dirs) walk(dir, dir, names)
    const errors: Error[] = []
    let compiled = 0
    for (const name of names) {
      try {
        this.#template(name)
        compiled++
      } catch (e) {
        errors.push(this.#wrap(e, name))
      }
    }
    return { compiled, errors }
  }

  #template(name: string): nunjucks.Template {
    let t = this.#compiled.get(name)
    if (t === undefined) {
      if (this.#loader.candidates(name) === null) throw new TemplateDoesNotExist(name, [])
      t = this.#env.getTemplate(name, true) // eager: parse errors surface here, once
      this.#compiled.set(name, t)
    }
    return t
  }

  #wrap(e: unknown, name: string): Error {
    const msg = (e as Error)?.message
    if (msg === `template not found: ${name}`) return new TemplateDoesNotExist(name, this.#loader.candidates(name) ?? [])
    return wrapNunjucksError(e, name, (f) => this.#loader.nameOf(f), (n) => this.#loader.sourceOf(n))
  }
}

function walk(root: string, dir: string, out: Set<string>): void {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const full = join(dir, e.name)
    if (e.isDirectory()) walk(root, full, out)
    else if (e.isFile()) out.add(relative(root, full).split(sep).join('/'))
  }
}

export { TemplateError }
