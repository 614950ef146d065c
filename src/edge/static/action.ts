// The `static` action (nginx root/alias/index/try_files): resolves the request path safely,
// looks it up in the open-file cache, picks a representation (precompressed sibling, cached
// compressed copy, or identity), answers 304/206/416/HEAD, and sends from memory or a shared fd.
import { createReadStream, open, read, realpathSync } from 'node:fs'
import { basename, join, sep } from 'node:path'
import type { EdgeAction, EdgeContext } from '../context.ts'
import type { StaticSettings } from '../config/validate.ts'
import { sendError } from '../errors.ts'
import { negotiateEncoding, type Coding } from '../filters/accept-encoding.ts'
import { ifRangeHolds, notModified, parseRange } from './conditional.ts'
import type { FileEntry, OpenFileCache } from './file-cache.ts'
import { safePathSegments } from './safe-path.ts'

export const IMMUTABLE = 'public, max-age=31536000, immutable'

export interface StaticDeps {
  cache: OpenFileCache
  /** On-the-fly compression settings: which types are worth compressing, from what size. */
  compression: { enabled: boolean; types: string[]; minSize: number; encodings: string[] }
  /** The route's `match.pathPrefix`, removed from the path when `alias` is used. */
  pathPrefix?: string
  /** Request paths remembered as naming a file directly (default 10,000; the cache's maxEntries). */
  maxDirect?: number
  /** The on-the-fly compression filter, applied to files streamed from disk (null: off). */
  compress?: ((ctx: EdgeContext) => void) | null
}

const SIBLING: Record<Coding, string> = { br: '.br', gzip: '.gz' }
const GZIP: readonly Coding[] = ['gzip']
const BR: readonly Coding[] = ['br']
const BR_GZIP: readonly Coding[] = ['br', 'gzip']

// Streams read the cache's shared descriptor positionally; they must never close it (a plain
// fd stream closes its descriptor on destroy even with autoClose: false).
const SHARED_FD_FS = { open, read, close: (_fd: number, cb: (err: null) => void) => cb(null) }

/**
 * @example createStaticAction(settings.static, { cache, compression: settings.compression })
 */
export function createStaticAction(s: StaticSettings, deps: StaticDeps): EdgeAction {
  const base = (s.alias ?? s.root)!
  const rootReal = realpathSync(base)
  const rootDir = rootReal.endsWith(sep) ? rootReal : rootReal + sep
  const inside = (p: string) => p === rootReal || p.startsWith(rootDir)
  const allowDot = s.dotfiles === 'allow'
  const tries = s.tryFiles.length ? s.tryFiles : null
  const compressible = new Set(deps.compression.types)
  const offered = deps.compression.encodings as Coding[]
  const cache = deps.cache
  const prefix = s.alias !== undefined ? deps.pathPrefix ?? '' : ''
  const immutable = s.immutable
  const maxDirect = deps.maxDirect ?? 10_000
  const compress = deps.compress ?? null

  // Per file version, what this route adds to it (computed once, not per request).
  interface Facts { canCompress: boolean; cacheControl: string; siblings: Record<Coding, string> }
  const factsOf = new WeakMap<FileEntry, Facts>()
  const facts = (e: FileEntry): Facts => {
    let f = factsOf.get(e)
    if (f === undefined) {
      f = {
        canCompress: compressible.has(e.contentType.split(';', 1)[0]!),
        cacheControl: immutable && immutable.test(basename(e.path)) ? IMMUTABLE : s.cacheControl,
        siblings: { br: e.path + SIBLING.br, gzip: e.path + SIBLING.gzip },
      }
      factsOf.set(e, f)
    }
    return f
  }

  // The request paths that named a file directly (no index, no try_files fallback), so a repeat
  // skips decoding, path checks and the cache lookup while that file version stays fresh (the
  // open-file cache's `validity`). Keys are raw paths that already passed safePathSegments and
  // the symlink check; the map is bounded like the open-file cache.
  const direct = new Map<string, FileEntry>()
  const remember = (path: string, e: FileEntry) => {
    if (direct.size >= maxDirect) direct.clear()
    direct.set(path, e)
  }

  const find = async (segments: string[]): Promise<FileEntry | null> => {
    const e = await cache.lookup(segments.length ? join(base, ...segments) : base)
    return e.kind !== 'missing' && inside(e.realPath) ? e : null
  }

  const findIndex = async (segments: string[]): Promise<FileEntry | null> => {
    for (const idx of s.index) {
      const f = await find([...segments, idx])
      if (f?.kind === 'file') return f
    }
    return null
  }

  // A compressed copy is made from the bytes held in memory (not while streaming a large file);
  // the buffer may be evicted between requests, so this is asked each time.
  const compressedInMemory = (e: FileEntry, f: Facts): boolean =>
    f.canCompress && deps.compression.enabled && e.buffer !== undefined && e.size >= deps.compression.minSize

  interface Representation { chosen: FileEntry; coding: Coding | null; body: Buffer | undefined; etag: string }

  /**
   * The representation to send: a precompressed sibling, the cached compressed copy, or the
   * file itself. Answers without waiting when everything it needs is cached and fresh; returns
   * a promise otherwise.
   */
  function represent(e: FileEntry, f: Facts, acceptEncoding: string): Representation | Promise<Representation | null> | null {
    const want = negotiateEncoding(acceptEncoding, offered)
    if (!want) return null
    const order = want === 'gzip' ? GZIP : negotiateEncoding(acceptEncoding, GZIP) ? BR_GZIP : BR
    for (const c of order) {
      if (s.precompressed) {
        const sib = cache.lookup(f.siblings[c])
        if (sib instanceof Promise) return representAsync(e, f, order)
        if (sib.kind === 'file' && inside(sib.realPath)) return { chosen: sib, coding: c, body: sib.buffer, etag: sib.etag }
      }
      if (compressedInMemory(e, f)) {
        const ready = e.encodedReady?.[c]
        if (ready) return { chosen: e, coding: c, body: ready, etag: `${e.etag.slice(0, -1)}-${c}"` }
        return representAsync(e, f, order)
      }
    }
    return null
  }

  async function representAsync(e: FileEntry, f: Facts, order: readonly Coding[]): Promise<Representation | null> {
    for (const c of order) {
      if (s.precompressed) {
        const sib = await cache.lookup(f.siblings[c])
        if (sib.kind === 'file' && inside(sib.realPath)) return { chosen: sib, coding: c, body: sib.buffer, etag: sib.etag }
      }
      if (compressedInMemory(e, f)) {
        const body = await cache.encoded(e, c)
        return { chosen: e, coding: c, body, etag: `${e.etag.slice(0, -1)}-${c}"` }
      }
    }
    return null
  }

  /** Answers with `e`; returns a promise only when it has to wait (a lookup, compression, a stream). */
  function serve(ctx: EdgeContext, e: FileEntry): void | Promise<void> {
    const h = ctx.req.headers
    const f = facts(e)
    if (ctx.trace !== undefined) ctx.notes.file = e.realPath
    const range = typeof h.range === 'string' ? h.range : undefined
    const ae = h['accept-encoding']
    // Ranges address the identity bytes; compressed representations are only for full bodies.
    if (range === undefined && ae && (s.precompressed || f.canCompress)) {
      const r = represent(e, f, ae as string)
      if (r instanceof Promise) return r.then((rr) => send(ctx, e, f, rr, undefined))
      if (r !== null) return send(ctx, e, f, r, undefined)
    }
    return send(ctx, e, f, null, range)
  }

  function send(ctx: EdgeContext, e: FileEntry, f: Facts, r: Representation | null, range: string | undefined): void | Promise<void> {
    const { req, res } = ctx
    const h = req.headers
    const chosen = r === null ? e : r.chosen
    const coding = r === null ? null : r.coding
    const body = r === null ? e.buffer : r.body
    const etag = r === null ? e.etag : r.etag
    res.setHeader('content-type', e.contentType)
    res.setHeader('last-modified', e.lastModified)
    res.setHeader('etag', etag)
    res.setHeader('accept-ranges', 'bytes')
    if (f.cacheControl) res.setHeader('cache-control', f.cacheControl)
    if (f.canCompress || coding) res.setHeader('vary', 'Accept-Encoding')
    if (coding) res.setHeader('content-encoding', coding)

    if ((h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) && notModified(h, etag, e.mtimeMs)) {
      res.statusCode = 304
      res.end()
      return
    }
    const size = body ? body.length : chosen.size
    let start = 0
    let end = size - 1
    res.statusCode = 200
    if (range !== undefined && !coding && ifRangeHolds(h['if-range'] as string | undefined, etag, e.lastModified)) {
      const rg = parseRange(range, size)
      if (rg.kind === 'unsatisfiable') {
        sendError(res, 416, 'range not satisfiable', { 'content-range': `bytes */${size}` }, req.method === 'HEAD')
        return
      }
      if (rg.kind === 'single') {
        start = rg.start
        end = rg.end
        res.statusCode = 206
        res.setHeader('content-range', `bytes ${start}-${end}/${size}`)
      }
    }
    res.setHeader('content-length', end - start + 1)
    if (req.method === 'HEAD' || size === 0) {
      res.end()
      return
    }
    if (body) {
      res.end(start === 0 && end === size - 1 ? body : body.subarray(start, end + 1))
      return
    }
    // A file too large for memory has no cached compressed copy: compress it while streaming.
    if (compress && !coding && f.canCompress) compress(ctx)
    return streamFd(ctx, chosen, start, end)
  }

  async function streamFd(ctx: EdgeContext, e: FileEntry, start: number, end: number): Promise<void> {
    const res = ctx.res
    if (e.fd === undefined) {
      // Evicted between lookup and send (cache full or file replaced): reopen once if the file
      // is still the same version, else let the client retry rather than send mixed bytes.
      const again = await cache.lookup(e.path)
      if (again.kind !== 'file' || again.etag !== e.etag || again.fd === undefined) {
        sendError(res, 503, 'file changed while being sent, retry', { 'retry-after': 0 })
        return
      }
      e = again
    }
    cache.acquire(e)
    const entry = e
    const stream = createReadStream('', { fd: entry.fd, start, end, fs: SHARED_FD_FS, highWaterMark: 128 * 1024 })
    let released = false
    const release = () => { if (!released) { released = true; cache.release(entry) } }
    stream.on('close', release)
    stream.on('error', () => { release(); res.destroy() })
    res.on('close', () => { if (!stream.destroyed) stream.destroy() })
    stream.pipe(res as NodeJS.WritableStream)
  }

  /** The path's full resolution (nginx root/alias, index, try_files), then the answer. */
  async function resolve(ctx: EdgeContext, method: string): Promise<void> {
    let raw = ctx.path
    if (prefix) {
      raw = raw.slice(prefix.length)
      if (raw.charCodeAt(0) !== 47) raw = `/${raw}`
    }
    const sp = safePathSegments(raw, allowDot)
    if (!sp.ok) {
      sendError(ctx.res, sp.status, sp.reason, undefined, method === 'HEAD')
      return
    }
    if (!tries) {
      const e = await find(sp.segments)
      if (e?.kind === 'file' && !sp.trailingSlash) {
        remember(ctx.path, e)
        return serve(ctx, e)
      }
      if (e?.kind === 'dir') {
        if (!sp.trailingSlash) {
          // nginx: a directory without its slash redirects, so relative links in index.html work.
          ctx.res.statusCode = 301
          ctx.res.setHeader('location', `${ctx.path}/${ctx.search}`)
          ctx.res.setHeader('content-length', 0)
          ctx.res.end()
          return
        }
        const idx = await findIndex(sp.segments)
        if (idx) return serve(ctx, idx)
      }
      // No directory listing, ever: a directory without an index is simply not found.
      sendError(ctx.res, 404, undefined, undefined, method === 'HEAD')
      return
    }
    for (let i = 0; i < tries.length; i++) {
      const t = tries[i]!
      if (t.charCodeAt(0) === 61 /* = */) {
        sendError(ctx.res, Number(t.slice(1)), undefined, undefined, method === 'HEAD')
        return
      }
      if (t === '$uri') {
        const e = await find(sp.segments)
        if (e?.kind === 'file') {
          // Only a first `$uri` is remembered: a later one depends on the earlier tries missing.
          if (i === 0) remember(ctx.path, e)
          return serve(ctx, e)
        }
      } else if (t === '$uri/') {
        const e = await find(sp.segments)
        if (e?.kind === 'dir') {
          const idx = await findIndex(sp.segments)
          if (idx) return serve(ctx, idx)
        }
      } else {
        const fp = safePathSegments(t, true)
        if (fp.ok) {
          const e = await find(fp.segments)
          if (e?.kind === 'file') return serve(ctx, e)
        }
      }
    }
    sendError(ctx.res, 404, undefined, undefined, method === 'HEAD')
  }

  return {
    kind: 'static',
    compresses: true,
    handle(ctx: EdgeContext): void | Promise<void> {
      const method = ctx.req.method!
      if (method !== 'GET' && method !== 'HEAD') {
        sendError(ctx.res, 405, 'static files answer GET and HEAD only', { allow: 'GET, HEAD' })
        return
      }
      const e = direct.get(ctx.path)
      if (e !== undefined && cache.fresh(e)) return serve(ctx, e)
      return resolve(ctx, method)
    },
  }
}
