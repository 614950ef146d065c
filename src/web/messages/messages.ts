// Flash messages (Django's contrib.messages): added during one request, shown on the next page
// that iterates them (then gone). Kept in the session or in a signed cookie.
import type { HttpRequest } from '../request.ts'

export const LEVELS = { debug: 10, info: 20, success: 25, warning: 30, error: 40 } as const
export type LevelName = keyof typeof LEVELS
const TAGS: Record<number, LevelName> = { 10: 'debug', 20: 'info', 25: 'success', 30: 'warning', 40: 'error' }

export class Message {
  constructor(readonly level: number, readonly message: string, readonly extraTags = '') {}
  /** 'success' (+ extra tags), for CSS classes. */
  get tags(): string {
    return [this.extraTags, TAGS[this.level] ?? ''].filter(Boolean).join(' ')
  }
  get levelTag(): string {
    return TAGS[this.level] ?? ''
  }
  toString(): string {
    return this.message
  }
  toJSON(): [number, string, string] {
    return [this.level, this.message, this.extraTags]
  }
}

/** Stored form → messages; anything malformed is dropped (the cookie comes from the client). */
export function decodeMessages(v: unknown): Message[] {
  if (!Array.isArray(v)) return []
  const out: Message[] = []
  for (const m of v.slice(0, 100)) {
    if (Array.isArray(m) && typeof m[0] === 'number' && typeof m[1] === 'string') out.push(new Message(m[0], m[1], typeof m[2] === 'string' ? m[2] : ''))
  }
  return out
}

/** A request's messages: iterable in templates (`{% for m in messages %}`); iterating consumes them. */
const LOADED = Promise.resolve()

export class MessageStore implements Iterable<Message> {
  loaded: Message[] = []
  queued: Message[] = []
  used = false
  added = false
  minLevel: number
  #load: () => Message[] | Promise<Message[]>
  #loading?: Promise<void>
  #loadedNow = false

  /** `load` may answer synchronously (cookie storage): then loadNow() needs no promise. */
  constructor(load: () => Message[] | Promise<Message[]>, minLevel: number) {
    this.#load = load
    this.minLevel = minLevel
  }

  /** Reads the stored messages (once). */
  load(): Promise<this> {
    const r = this.loadNow()
    return r instanceof Promise ? r : Promise.resolve(r)
  }

  /** load(), without a promise when the storage answered synchronously. Templates call this through the context processor. */
  loadNow(): this | Promise<this> {
    if (this.#loading === undefined) {
      const m = this.#load()
      if (m instanceof Promise) {
        this.#loading = m.then((v) => {
          this.loaded = v
        })
      } else {
        this.loaded = m
        this.#loadedNow = true
        this.#loading = LOADED
      }
    }
    return this.#loadedNow ? this : this.#loading.then(() => this)
  }

  add(level: number, message: string, extraTags = ''): void {
    if (level < this.minLevel) return
    this.queued.push(new Message(level, String(message), extraTags))
    this.added = true
  }

  [Symbol.iterator](): Iterator<Message> {
    this.used = true
    if (this.queued.length) {
      this.loaded.push(...this.queued)
      this.queued = []
    }
    return this.loaded[Symbol.iterator]()
  }

  get length(): number {
    return this.loaded.length + this.queued.length
  }

  /** What must be stored after the response: unread messages, and those added after reading. */
  remaining(): Message[] {
    return this.used ? this.queued : [...this.loaded, ...this.queued]
  }

  get loadedOnce(): boolean {
    return this.#loading !== undefined
  }
}

const NO_MESSAGES = 'No message storage on this request: add messageMiddleware (below sessionMiddleware when MESSAGE_STORAGE is "session")'

export function getMessages(req: HttpRequest): MessageStore {
  const m = req.state.messages
  if (!(m instanceof MessageStore)) throw new Error(NO_MESSAGES)
  return m
}

/**
 * @example
 * messages.success(req, 'Profile saved.')
 * messages.add(req, 'warning', 'Your card expires soon.')
 */
export const messages = {
  add(req: HttpRequest, level: LevelName | number, text: string, extraTags = ''): void {
    getMessages(req).add(typeof level === 'number' ? level : LEVELS[level], text, extraTags)
  },
  debug: (req: HttpRequest, text: string) => messages.add(req, 'debug', text),
  info: (req: HttpRequest, text: string) => messages.add(req, 'info', text),
  success: (req: HttpRequest, text: string) => messages.add(req, 'success', text),
  warning: (req: HttpRequest, text: string) => messages.add(req, 'warning', text),
  error: (req: HttpRequest, text: string) => messages.add(req, 'error', text),
  /** The messages (loaded), for views that want them outside a template. */
  async get(req: HttpRequest): Promise<MessageStore> {
    return getMessages(req).load()
  },
}
