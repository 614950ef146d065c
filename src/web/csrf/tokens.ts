// CSRF secrets and masked tokens (Django's scheme): the secret stays the same for the cookie's
// life, but every page gets it XOR-like masked with fresh random characters, so a compressed
// response (BREACH) never repeats the same token bytes.
import { randomFillSync, timingSafeEqual } from 'node:crypto'

const CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
export const SECRET_LENGTH = 32
export const TOKEN_LENGTH = 64
const VALID = /^[a-zA-Z0-9]+$/
// Character code → position in CHARS (tokens are checked to be alphanumeric before unmasking).
const INDEX = new Uint8Array(128)
for (let i = 0; i < CHARS.length; i++) INDEX[CHARS.charCodeAt(i)] = i

// Every page masks the secret with 32 fresh random characters. Asking the CSPRNG for 64 bytes
// each time costs more than the masking (a job object, a native call); the bytes are instead
// drawn from a pool filled by the same CSPRNG 4 KB at a time, each byte used once.
const pool = Buffer.allocUnsafeSlow(4096)
let poolPos = pool.length

/** A uniformly random position in CHARS (0..61). */
function randomIndex(): number {
  for (;;) {
    if (poolPos === pool.length) {
      randomFillSync(pool)
      poolPos = 0
    }
    const b = pool[poolPos++]!
    // 248 = 4 * 62: rejection sampling keeps every character equally likely.
    if (b < 248) return b % 62
  }
}

function randomString(n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += CHARS[randomIndex()]
  return s
}

export const newSecret = (): string => randomString(SECRET_LENGTH)

// Character codes of CHARS, and the bytes of the token being built: one flat string comes out
// of them at the end, where 64 string additions made a deep rope that the first reader (the
// template's escape test, the socket's UTF-8 encoder) had to flatten again.
const CODES = Buffer.from(CHARS, 'latin1')
const maskBytes = Buffer.allocUnsafeSlow(TOKEN_LENGTH)

export function maskSecret(secret: string): string {
  for (let i = 0; i < SECRET_LENGTH; i++) {
    const m = randomIndex()
    maskBytes[i] = CODES[m]!
    maskBytes[SECRET_LENGTH + i] = CODES[(INDEX[secret.charCodeAt(i)]! + m) % 62]!
  }
  return maskBytes.toString('latin1', 0, TOKEN_LENGTH)
}

export function unmaskToken(token: string): string {
  let out = ''
  for (let i = 0; i < SECRET_LENGTH; i++) out += CHARS[(INDEX[token.charCodeAt(SECRET_LENGTH + i)]! - INDEX[token.charCodeAt(i)]! + 62) % 62]
  return out
}

/** Throws a reason string when the token (from a form or header) is malformed. */
export function checkTokenFormat(token: string): string | undefined {
  if (token.length !== SECRET_LENGTH && token.length !== TOKEN_LENGTH) return 'CSRF token has incorrect length.'
  if (!VALID.test(token)) return 'CSRF token has invalid characters.'
  return undefined
}

/** A stored secret is valid when it is 32 alphanumerics (a 64-character masked one is unmasked). */
export function normalizeSecret(value: string | undefined): string | undefined {
  if (value === undefined || checkTokenFormat(value) !== undefined) return undefined
  return value.length === TOKEN_LENGTH ? unmaskToken(value) : value
}

/** Constant-time: does the (masked or plain) token carry this secret? */
export function tokenMatches(token: string, secret: string): boolean {
  const s = token.length === TOKEN_LENGTH ? unmaskToken(token) : token
  const a = Buffer.from(s)
  const b = Buffer.from(secret)
  return a.length === b.length && timingSafeEqual(a, b)
}
