// Reads a callgrind dump for the instruction harnesses (bench/firewall-instructions.ts,
// bench/edge-page-instructions.ts): the total, and what V8's optimizing compiler and its garbage
// collector spent (by function name), so that a figure can leave out the compiler's warm-up work.
import { readFileSync } from 'node:fs'

// V8's optimizing compiler and garbage collector, by function name.
const COMPILER = /v8::internal::(compiler|maglev|baseline)::|OptimizedCompilationJob|TurbofanCompilationJob|v8::internal::Zone::/
const GC = /v8::internal::.*(Scaveng|MarkCompact|Marking|Sweep|Evacuat|Heap::|GCTracer|RememberedSet|SlotSet|PointersUpdating|MemoryAllocator|Compaction|ObjectVisitor|MarkingVisitor|IncrementalMarking|WeakObjects|GlobalHandles)/

/**
 * A callgrind dump's instructions: in all, in V8's optimizing compiler, and in its garbage
 * collector (by function name; the self cost of each function, so nothing is counted twice).
 */
export function breakdown(file: string): { total: number; compiler: number; gc: number } {
  const names = new Map<string, string>()
  let total = 0
  let compiler = 0
  let gc = 0
  let kind = 0 // of the current function: 0 other, 1 compiler, 2 GC
  let skipNext = false
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (skipNext) { skipNext = false; continue } // the inclusive cost of a call
    if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const m = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line)
      if (!m) continue
      if (m[2] !== undefined) names.set(m[1]!, m[2])
      if (line[0] === 'f') {
        const name = names.get(m[1]!) ?? ''
        kind = COMPILER.test(name) ? 1 : GC.test(name) ? 2 : 0
      }
      continue
    }
    if (line.startsWith('calls=')) { skipNext = true; continue }
    if (line.startsWith('summary:') || line.startsWith('totals:')) { total ||= Number(line.slice(line.indexOf(':') + 1)); continue }
    if (kind === 0) continue
    const m = /^(?:[+-]?\d+|\*)\s+(\d+)/.exec(line)
    if (!m) continue
    if (kind === 1) compiler += Number(m[1])
    else gc += Number(m[1])
  }
  return { total, compiler, gc }
}
