// The upstream's HTTP/1.x response head (status line + header lines up to the empty line), parsed
// by hand for the edge's own upstream client: one latin1 string, one pass, lower-case names, and
// how the body is framed (RFC 9112 §6.3). Anything malformed throws a ResponseHeadError, which the
// proxy answers with 502.

/** How the response body ends. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close'

export interface ResponseHead {
  status: number
  /** HTTP/1.0 (true) or 1.1. */
  http10: boolean
  /** Lower-case names; a repeated header becomes an array (as node:http and undici give them). */
  headers: Record<string, string | string[]>
  framing: BodyFraming
  /** Body bytes for `length` framing. */
  length: number
  /** The connection may carry another request after this response. */
  keepAlive: boolean
  /** The upstream's `Keep-Alive: timeout=N` in ms (0 = not given). */
  keepAliveTimeout: number
}

export class ResponseHeadError extends Error {
  readonly code = 'CW_UPSTREAM_BAD_RESPONSE'
}

// RFC 9110 §5.1 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Control characters other than HTAB, and CR or LF that are not one CRLF: one scan of the whole head. */
const BAD_BYTES = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/
/**
 * Header names as sent → lower-case, for names already seen (valid tokens): most responses repeat
 * the same few names, so this spares a regex test and a toLowerCase per header.
 */
const knownNames = new Map<string, string>()
const DIGITS = /^\d{1,15}$/
/**
 * `Keep-Alive` values → their timeout in ms: an upstream sends the same value on every response
 * (node: `timeout=5`), so the regex runs once per distinct value (bounded; short values only).
 */
const keepAliveTimeouts = new Map<string, number>()

function keepAliveTimeoutOf(value: string): number {
  let ms = keepAliveTimeouts.get(value)
  if (ms !== undefined) return ms
  const m = /timeout\s*=\s*(\d+)/i.exec(value)
  ms = m ? Number(m[1]) * 1000 : 0
  if (value.length <= 64) {
    if (keepAliveTimeouts.size >= 64) keepAliveTimeouts.clear()
    keepAliveTimeouts.set(value, ms)
  }
  return ms
}

function bad(what: string): never {
  throw new ResponseHeadError(`malformed upstream response: ${what}`)
}

/**
 * Parses `head` (latin1, without the final CRLFCRLF). `method` decides whether a body follows.
 * @example parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 2', 'GET') // { status: 200, framing: 'length', length: 2, … }
 */
export function parseResponseHead(head: string, method: string): ResponseHead {
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  if (head.length < 12 || !head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 32) bad('status line')
  const minor = head.charCodeAt(7)
  if (minor !== 49 && minor !== 48) bad('HTTP version')
  const status = (head.charCodeAt(9) - 48) * 100 + (head.charCodeAt(10) - 48) * 10 + (head.charCodeAt(11) - 48)
  if (!(status >= 100 && status <= 999) || !isDigit(head.charCodeAt(9)) || !isDigit(head.charCodeAt(10)) || !isDigit(head.charCodeAt(11))) bad('status code')
  let eol = head.indexOf('\r\n')
  if (eol === -1) eol = head.length
  if (eol > 12 && head.charCodeAt(12) !== 32) bad('status line')
  if (BAD_BYTES.test(head)) bad('control character or bare CR/LF in the head')

  const headers: Record<string, string | string[]> = {}
  let contentLength: string | undefined
  let transferEncoding: string | undefined
  let connection: string | undefined
  let keepAliveHeader: string | undefined
  let pos = eol + 2
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos)
    if (end === -1) end = head.length
    const colon = head.indexOf(':', pos)
    if (colon === -1 || colon >= end) bad('header line without a colon')
    const rawName = head.slice(pos, colon)
    let name = knownNames.get(rawName)
    if (name === undefined) {
      // Also rejects obsolete line folding (a line starting with whitespace) and `Name : value`.
      if (!TOKEN.test(rawName)) bad(`header name ${JSON.stringify(rawName.slice(0, 40))}`)
      name = rawName.toLowerCase()
      if (knownNames.size >= 512) knownNames.clear()
      knownNames.set(rawName, name)
    }
    const value = trimOws(head, colon + 1, end)
    pos = end + 2
    switch (name) {
      case 'content-length':
        if (contentLength !== undefined && contentLength !== value) bad('conflicting Content-Length')
        contentLength = value
        break
      case 'transfer-encoding':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`
        break
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`
        break
      case 'keep-alive':
        keepAliveHeader = value
        break
    }
    const prior = headers[name]
    if (prior === undefined) headers[name] = value
    else if (name === 'content-length') continue // same value repeated: kept once
    else if (typeof prior === 'string') headers[name] = [prior, value]
    else prior.push(value)
  }

  const http10 = minor === 48
  let keepAlive = http10 ? false : true
  if (connection === 'keep-alive') {
    // What node and most servers send: no lower-casing or token search.
    keepAlive = true
  } else if (connection !== undefined) {
    const c = connection.toLowerCase()
    if (c.includes('close')) keepAlive = false
    else if (http10 && c.includes('keep-alive')) keepAlive = true
  }

  let framing: BodyFraming
  let length = 0
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
    framing = 'none'
  } else if (transferEncoding !== undefined) {
    // Both framings at once is how responses get smuggled: refuse rather than pick one.
    if (contentLength !== undefined) bad('both Transfer-Encoding and Content-Length')
    if (http10) bad('Transfer-Encoding on HTTP/1.0')
    if (transferEncoding === 'chunked' || /(?:^|,)\s*chunked\s*$/.test(transferEncoding.toLowerCase())) framing = 'chunked'
    else {
      // Not ending in chunked: the body runs to the close (RFC 9112 §6.3 item 4, responses).
      framing = 'close'
      keepAlive = false
    }
  } else if (contentLength !== undefined) {
    if (!DIGITS.test(contentLength)) bad(`Content-Length ${JSON.stringify(contentLength.slice(0, 20))}`)
    length = Number(contentLength)
    framing = length === 0 ? 'none' : 'length'
  } else {
    framing = 'close'
    keepAlive = false
  }

  const keepAliveTimeout = keepAliveHeader === undefined ? 0 : keepAliveTimeoutOf(keepAliveHeader)
  return { status, http10, headers, framing, length, keepAlive, keepAliveTimeout }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/** The field value between `from` and `to` without leading/trailing SP and HTAB (BAD_BYTES already checked). */
function trimOws(s: string, from: number, to: number): string {
  while (from < to && (s.charCodeAt(from) === 32 || s.charCodeAt(from) === 9)) from++
  while (to > from && (s.charCodeAt(to - 1) === 32 || s.charCodeAt(to - 1) === 9)) to--
  return s.slice(from, to)
}
