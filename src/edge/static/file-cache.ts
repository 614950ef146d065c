// nginx's open_file_cache: stat, realpath, open descriptor and (for small files) the contents,
// cached for `validity` ms and re-validated by stat afterwards (changed → reloaded). Missing files
// are cached too, so a flood of 404s does not become a flood of syscalls. Descriptors are shared
// by concurrent streams (positional reads) and closed once evicted and no stream uses them.
import { promises as fsp, constants } from 'node:fs'
import { brotliCompress, gzip, constants as z } from 'node:zlib'
import { promisify } from 'node:util'
import { extname } from 'node:path'
import mime from 'mime-types'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

export interface FileEntry {
  kind: 'file' | 'dir' | 'missing'
  path: string
  realPath: string
  size: number
  mtimeMs: number
  ino: number
  etag: string
  lastModified: string
  contentType: string
  /** Contents when the file is small enough to keep in memory. */
  buffer?: Buffer
  /** Compressed contents of `buffer`, made once on first demand. */
  encoded?: { br?: Promise<Buffer>; gzip?: Promise<Buffer> }
  /** The same once made, for answering without waiting on the promise. */
  encodedReady?: { br?: Buffer; gzip?: Buffer }
  fd?: number
  refs: number
  stale: boolean
  checkedAt: number
}

export interface FileCacheOptions {
  validity: number
  maxEntries: number
  memoryMaxFile: number
  memoryBudget: number
}

export class OpenFileCache {
  #entries = new Map<string, FileEntry>()
  #pending = new Map<string, Promise<FileEntry>>()
  #memoryUsed = 0
  #opts: FileCacheOptions

  constructor(opts: FileCacheOptions) {
    this.#opts = opts
  }

  get size(): number {
    return this.#entries.size
  }

  /**
   * True while `e` may be used without asking the file system again: it is still the cached
   * version of its path and was checked less than `validity` ms ago (nginx open_file_cache_valid).
   */
  fresh(e: FileEntry): boolean {
    return !e.stale && performance.now() - e.checkedAt < this.#opts.validity
  }

  /** The entry for an absolute path; fast (no syscall) while it is fresh. */
  lookup(path: string): FileEntry | Promise<FileEntry> {
    const e = this.#entries.get(path)
    if (e !== undefined && performance.now() - e.checkedAt < this.#opts.validity) return e
    const p = this.#pending.get(path)
    if (p) return p
    const q = this.#revalidate(path, e).finally(() => this.#pending.delete(path))
    this.#pending.set(path, q)
    return q
  }

  async #revalidate(path: string, old: FileEntry | undefined): Promise<FileEntry> {
    if (old) {
      const st = await fsp.stat(path).catch(() => null)
      const same = old.kind === 'missing'
        ? st === null
        : st !== null && st.ino === old.ino && st.size === old.size && st.mtimeMs === old.mtimeMs
      if (same) {
        old.checkedAt = performance.now()
        return old
      }
    }
    const fresh = await this.#load(path)
    this.#put(path, fresh)
    return fresh
  }

  async #load(path: string): Promise<FileEntry> {
    const base = { path, realPath: path, size: 0, mtimeMs: 0, ino: 0, etag: '', lastModified: '', contentType: '', refs: 0, stale: false, checkedAt: performance.now() }
    let realPath: string
    try {
      realPath = await fsp.realpath(path)
    } catch {
      return { ...base, kind: 'missing' }
    }
    let handle: fsp.FileHandle | undefined
    try {
      handle = await fsp.open(realPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
      const st = await handle.stat()
      if (!st.isFile()) {
        await handle.close()
        return { ...base, realPath, kind: st.isDirectory() ? 'dir' : 'missing' }
      }
      const entry: FileEntry = {
        ...base,
        kind: 'file',
        realPath,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
        // Strong validator from mtime and size, the shape nginx uses.
        etag: `"${Math.floor(st.mtimeMs).toString(16)}-${st.size.toString(16)}"`,
        lastModified: st.mtime.toUTCString(),
        contentType: mime.contentType(extname(path.replace(/\.(br|gz)$/, ''))) || 'application/octet-stream',
      }
      if (st.size <= this.#opts.memoryMaxFile && this.#memoryUsed + st.size <= this.#opts.memoryBudget) {
        const buf = Buffer.allocUnsafe(st.size)
        let off = 0
        while (off < st.size) {
          const { bytesRead } = await handle.read(buf, off, st.size - off, off)
          if (bytesRead === 0) break
          off += bytesRead
        }
        await handle.close()
        entry.buffer = off === st.size ? buf : buf.subarray(0, off)
        entry.size = entry.buffer.length
        this.#memoryUsed += entry.size
      } else {
        entry.fd = handle.fd
        // The FileHandle stays referenced here so GC never closes the descriptor under a stream.
        this.#keep.set(entry, handle)
      }
      return entry
    } catch {
      await handle?.close().catch(() => {})
      return { ...base, kind: 'missing' }
    }
  }

  // FileHandles of descriptor entries, kept referenced so they are closed only by us.
  #keep = new WeakMap<FileEntry, fsp.FileHandle>()

  #put(path: string, entry: FileEntry): void {
    const old = this.#entries.get(path)
    if (old) this.#retire(old)
    this.#entries.delete(path)
    this.#entries.set(path, entry)
    while (this.#entries.size > this.#opts.maxEntries) {
      const [k, v] = this.#entries.entries().next().value as [string, FileEntry]
      this.#entries.delete(k)
      this.#retire(v)
    }
  }

  #retire(e: FileEntry): void {
    e.stale = true
    if (e.buffer) {
      this.#memoryUsed -= e.buffer.length
      e.buffer = undefined
    }
    e.encoded = undefined
    e.encodedReady = undefined
    if (e.refs === 0) this.#closeFd(e)
  }

  #closeFd(e: FileEntry): void {
    const h = this.#keep.get(e)
    if (h) {
      this.#keep.delete(e)
      e.fd = undefined
      h.close().catch(() => {})
    }
  }

  /** A stream is about to read `e.fd`: keep the descriptor open until `release`. */
  acquire(e: FileEntry): void {
    e.refs++
  }

  release(e: FileEntry): void {
    e.refs--
    if (e.refs === 0 && e.stale) this.#closeFd(e)
  }

  /** The memory-cached contents compressed with `coding`, made once per file version. */
  encoded(e: FileEntry, coding: 'br' | 'gzip'): Promise<Buffer> | undefined {
    const buf = e.buffer
    if (!buf) return undefined
    e.encoded ??= {}
    let p = e.encoded[coding]
    if (!p) {
      p = coding === 'br'
        ? brotli(buf, { params: { [z.BROTLI_PARAM_QUALITY]: 9, [z.BROTLI_PARAM_SIZE_HINT]: buf.length } })
        : gz(buf, { level: 9 })
      e.encoded[coding] = p
      p.then((b) => { if (!e.stale) (e.encodedReady ??= {})[coding] = b }, () => {})
    }
    return p
  }

  /** Closes every descriptor (engine shutdown). */
  close(): void {
    for (const e of this.#entries.values()) this.#retire(e)
    this.#entries.clear()
  }
}
