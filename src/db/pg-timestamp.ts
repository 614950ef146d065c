// timestamptz values as PostgreSQL sends them in text format, parsed without regular expressions
// for the common shape `YYYY-MM-DD HH:MM:SS[.ffffff]±HH` (what a server sends whatever its
// TimeZone as long as the offset is whole hours: '+00' for UTC). Anything else (BC dates,
// infinity, offsets with minutes, years beyond 9999) goes to pg's own parser, `fallback`. The
// arithmetic is the same as postgres-date's (Date.UTC with 1000 × the fraction as milliseconds,
// which Date.UTC truncates), so both give the same Date for the same text.

const digit = (s: string, i: number): number => {
  const d = s.charCodeAt(i) - 48
  return d >= 0 && d <= 9 ? d : NaN
}
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1)

/** Returns a parser for timestamptz text that tries the fast shape first. */
export function timestamptzParser(fallback: (text: string) => unknown): (text: string) => unknown {
  return (s: string): unknown => {
    const n = s.length
    // 'YYYY-MM-DD HH:MM:SS' is 19 characters, then an optional '.' and 1–6 digits, then '±HH'.
    if (n < 22 || n > 29 || n === 23 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return fallback(s)
    const sign = s.charCodeAt(n - 3)
    if (sign !== 43 && sign !== 45) return fallback(s)
    const year = two(s, 0) * 100 + two(s, 2)
    const month = two(s, 5)
    const day = two(s, 8)
    const hour = two(s, 11)
    const minute = two(s, 14)
    const second = two(s, 17)
    const offsetHours = two(s, n - 2)
    let ms = 0
    if (n > 22) {
      if (s.charCodeAt(19) !== 46) return fallback(s)
      for (let i = 20; i < n - 3; i++) if (Number.isNaN(digit(s, i))) return fallback(s)
      ms = 1000 * Number(s.slice(19, n - 3))
    }
    const t = Date.UTC(year, month - 1, day, hour, minute, second, ms)
    // NaN digits make t NaN; years below 1000 are where Date.UTC's 0–99 rule could differ.
    if (Number.isNaN(t) || Number.isNaN(offsetHours) || year < 1000) return fallback(s)
    return new Date(sign === 43 ? t - offsetHours * 3_600_000 : t + offsetHours * 3_600_000)
  }
}
