// The compiled matcher: a tree keyed on path segments. Static segments are one Map lookup;
// segments with converters are small anchored regexes tried at their node only; a route whose
// converter may span '/' (Django's `path`) becomes a catch-all "tail" regex over the rest of the
// path. Django's rule "the first pattern in the table wins" is kept exactly: every endpoint has
// its table index, the search keeps the lowest index found and prunes subtrees whose lowest index
// cannot beat it. So a request touches only the branches its segments lead to, never every route.
import { ConfigError } from '../../errors.ts'
import { escapeRegex, type RouteToken } from './route.ts'
import { spansSegments, type Converter } from './converters.ts'

/** One compiled route: what the trie leads to. */
export interface Endpoint {
  /** Position in the flattened URL table; lower wins. */
  index: number
  /** Null: any method. */
  methods: ReadonlySet<string> | null
}

interface Capture { names: string[]; converters: Converter[] }

interface DynamicEdge extends Capture { regex: RegExp; node: TrieNode }
interface TailEdge<E> extends Capture { regex: RegExp; endpoints: E[]; minIndex: number }

class TrieNode<E extends Endpoint = Endpoint> {
  readonly static = new Map<string, TrieNode<E>>()
  readonly dynamic: DynamicEdge[] = []
  readonly dynamicKeys = new Map<string, DynamicEdge>()
  readonly tails: TailEdge<E>[] = []
  readonly tailKeys = new Map<string, TailEdge<E>>()
  /** Endpoints whose route ends exactly here, sorted by index. */
  readonly endpoints: E[] = []
  minIndex = Infinity
}

/** Search state; `values` is a flat [name, value, name, value...] stack. */
interface SearchState<E> {
  method: string | null
  best: E | null
  bestIndex: number
  bestValues: unknown[]
  values: unknown[]
  /** Collect mode (method === null): every endpoint whose path matches. */
  all: E[] | null
}

export interface TrieMatch<E> { endpoint: E; values: unknown[] }

export class SegmentTrie<E extends Endpoint> {
  readonly #root = new TrieNode<E>()

  /** Adds an endpoint under its full token list; `converters` is the compile's converter table. */
  insert(tokens: RouteToken[], endpoint: E, converters: Map<string, Converter>, display: string): void {
    const segments = splitSegments(tokens)
    let node = this.#root as TrieNode<any>
    const path: TrieNode<any>[] = [node]
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!
      const params = seg.filter((t) => t.kind === 'param') as Extract<RouteToken, { kind: 'param' }>[]
      const convs = params.map((p) => lookup(converters, p.converter, display))
      if (convs.some((c) => spansSegments(c))) {
        // The rest of the route, slashes included, is one regex over the rest of the path.
        const rest = segments.slice(i)
        const key = rest.map(segmentKey).join('/')
        let tail = node.tailKeys.get(key)
        if (!tail) {
          const cap: Capture = { names: [], converters: [] }
          const src = rest.map((s) => segmentRegex(s, converters, cap, display)).join('/')
          tail = { regex: new RegExp(`^${src}$`), endpoints: [], minIndex: Infinity, ...cap }
          node.tailKeys.set(key, tail)
          node.tails.push(tail)
        }
        tail.endpoints.push(endpoint)
        tail.endpoints.sort((a, b) => a.index - b.index)
        tail.minIndex = Math.min(tail.minIndex, endpoint.index)
        node.tails.sort((a, b) => a.minIndex - b.minIndex)
        for (const n of path) n.minIndex = Math.min(n.minIndex, endpoint.index)
        return
      }
      if (params.length === 0) {
        const text = seg.map((t) => (t as { text: string }).text).join('')
        let child = node.static.get(text)
        if (!child) node.static.set(text, (child = new TrieNode()))
        node = child
      } else {
        const key = segmentKey(seg)
        let edge = node.dynamicKeys.get(key)
        if (!edge) {
          const cap: Capture = { names: [], converters: [] }
          edge = { regex: new RegExp(`^${segmentRegex(seg, converters, cap, display)}$`), node: new TrieNode(), ...cap }
          node.dynamicKeys.set(key, edge)
          node.dynamic.push(edge)
        }
        node = edge.node
      }
      path.push(node)
    }
    node.endpoints.push(endpoint)
    node.endpoints.sort((a: E, b: E) => a.index - b.index)
    for (const n of path) n.minIndex = Math.min(n.minIndex, endpoint.index)
    // Keep dynamic edges in the order of their best endpoint so good matches are found first.
    for (const n of path) n.dynamic.sort((a, b) => a.node.minIndex - b.node.minIndex)
  }

  /** The lowest-index endpoint matching `path` (no leading '/') and allowing `method`. */
  match(path: string, method: string): TrieMatch<E> | null {
    const st: SearchState<E> = { method, best: null, bestIndex: Infinity, bestValues: [], values: [], all: null }
    search(this.#root, path, 0, st)
    return st.best ? { endpoint: st.best, values: st.bestValues } : null
  }

  /**
   * The endpoints at the end of `path`'s chain of static segments, when nothing else can match
   * `path`: no converter segment or tail along the way accepts the text (regexes only, converters
   * are not called). Null otherwise. For a path like that, match() is the first of these endpoints
   * that allows the method, so the resolver may look it up in a table built once.
   */
  staticOnly(path: string): E[] | null {
    let node = this.#root
    let pos = 0
    while (pos !== -1) {
      const slash = path.indexOf('/', pos)
      const seg = slash === -1 ? path.slice(pos) : path.slice(pos, slash)
      for (const edge of node.dynamic) if (edge.regex.test(seg)) return null
      const rest = path.slice(pos)
      for (const tail of node.tails) if (tail.regex.test(rest)) return null
      const child = node.static.get(seg)
      if (child === undefined) return null
      node = child
      pos = slash === -1 ? -1 : slash + 1
    }
    return node.endpoints.length > 0 ? node.endpoints.slice() : null
  }

  /** Every endpoint whose route matches `path`, whatever its methods (for 405's Allow). */
  matchAll(path: string): E[] {
    const st: SearchState<E> = { method: null, best: null, bestIndex: Infinity, bestValues: [], values: [], all: [] }
    search(this.#root, path, 0, st)
    return st.all!.sort((a, b) => a.index - b.index)
  }
}

function allows(ep: Endpoint, method: string | null): boolean {
  return method === null || ep.methods === null || ep.methods.has(method)
}

function accept<E extends Endpoint>(ep: E, st: SearchState<E>): boolean {
  if (st.all) { st.all.push(ep); return false }
  if (ep.index >= st.bestIndex || !allows(ep, st.method)) return false
  st.best = ep
  st.bestIndex = ep.index
  st.bestValues = st.values.slice()
  return true
}

/** Converts captured texts; false when a converter refuses (Django's ValueError → no match). */
function capture(m: RegExpExecArray, cap: Capture, values: unknown[]): boolean {
  const start = values.length
  for (let g = 0; g < cap.names.length; g++) {
    try {
      values.push(cap.names[g], cap.converters[g]!.toValue(m[g + 1]!))
    } catch {
      values.length = start
      return false
    }
  }
  return true
}

// pos: start of the current segment in `path`, or -1 once the whole path has been consumed.
function search<E extends Endpoint>(node: TrieNode<E>, path: string, pos: number, st: SearchState<E>): void {
  if (node.minIndex >= st.bestIndex) return
  if (pos === -1) {
    for (const ep of node.endpoints) if (accept(ep, st)) break
    return
  }
  const slash = path.indexOf('/', pos)
  const seg = slash === -1 ? (pos === 0 ? path : path.slice(pos)) : path.slice(pos, slash)
  const next = slash === -1 ? -1 : slash + 1
  const child = node.static.get(seg)
  if (child !== undefined) search(child, path, next, st)
  const dyn = node.dynamic
  for (let i = 0; i < dyn.length; i++) {
    const edge = dyn[i]!
    if (edge.node.minIndex >= st.bestIndex) break // sorted by minIndex: nothing later can win
    const m = edge.regex.exec(seg)
    if (m === null) continue
    const mark = st.values.length
    if (!capture(m, edge, st.values)) continue
    search(edge.node as TrieNode<E>, path, next, st)
    st.values.length = mark
  }
  const tails = node.tails
  if (tails.length === 0) return
  const rest = pos === 0 ? path : path.slice(pos)
  for (let i = 0; i < tails.length; i++) {
    const tail = tails[i]!
    if (tail.minIndex >= st.bestIndex) break
    const m = tail.regex.exec(rest)
    if (m === null) continue
    const mark = st.values.length
    if (!capture(m, tail, st.values)) continue
    for (const ep of tail.endpoints) if (accept(ep, st)) break
    st.values.length = mark
  }
}

/** Splits a token list on the '/' characters of its literals: one token list per path segment. */
export function splitSegments(tokens: RouteToken[]): RouteToken[][] {
  const segments: RouteToken[][] = [[]]
  for (const t of tokens) {
    if (t.kind === 'param') { segments[segments.length - 1]!.push(t); continue }
    const parts = t.text.split('/')
    parts.forEach((p, i) => {
      if (i > 0) segments.push([])
      if (p !== '') segments[segments.length - 1]!.push({ kind: 'literal', text: p })
    })
  }
  return segments
}

function segmentKey(seg: RouteToken[]): string {
  return seg.map((t) => (t.kind === 'literal' ? t.text.replace(/[<\\]/g, '\\$&') : `<${t.converter}:${t.name}>`)).join('')
}

function segmentRegex(seg: RouteToken[], converters: Map<string, Converter>, cap: Capture, display: string): string {
  return seg.map((t) => {
    if (t.kind === 'literal') return escapeRegex(t.text)
    const c = lookup(converters, t.converter, display)
    cap.names.push(t.name)
    cap.converters.push(c)
    return `(${c.regex})`
  }).join('')
}

function lookup(converters: Map<string, Converter>, name: string, display: string): Converter {
  const c = converters.get(name)
  if (!c) throw new ConfigError(`urls[${JSON.stringify(display)}]`, `unknown converter '${name}' (known: ${[...converters.keys()].join(', ')})`)
  return c
}
