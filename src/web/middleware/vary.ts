// Django's patch_vary_headers: add names to Vary without repeating one already there.
import type { HttpResponse } from '../response.ts'

/** @example patchVary(res, 'Accept-Encoding') // Vary: Cookie, Accept-Encoding */
export function patchVary(res: HttpResponse, ...names: string[]): void {
  const cur = res.headers['vary']
  // No Vary yet (gzip, the innermost to set one, on most pages): nothing to merge with.
  if (cur === undefined && names.length === 1) {
    res.headers['vary'] = names[0]!
    return
  }
  const have = cur === undefined ? '' : (Array.isArray(cur) ? cur.join(',') : cur)
  const present = new Set(have.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
  if (present.has('*')) return
  for (const n of names) {
    if (present.has(n.toLowerCase())) continue
    present.add(n.toLowerCase())
    res.appendHeader('vary', n)
  }
}
