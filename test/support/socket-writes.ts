// Counts this process's socket writes (each _write / _writev call is one write syscall's worth):
// tests that check statements or commands share a write.
import net from 'node:net'

type Writes = { _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown }

/**
 * Counts writes on sockets to each of `ports` until stop(), which answers the counts in the same
 * order.
 * @example const w = countSocketWrites([5432]); await page(); assert.deepEqual(w.stop(), [1])
 */
export function countSocketWrites(ports: number[]): { stop(): number[] } {
  const proto = net.Socket.prototype as unknown as Writes
  const { _write: write, _writev: writev } = proto
  const n = ports.map(() => 0)
  const count = (s: net.Socket): void => {
    const i = ports.indexOf(s.remotePort ?? -1)
    if (i >= 0) n[i]!++
  }
  proto._write = function (this: net.Socket, ...a: unknown[]) { count(this); return write.apply(this, a) }
  proto._writev = function (this: net.Socket, ...a: unknown[]) { count(this); return writev.apply(this, a) }
  return {
    stop() {
      proto._write = write
      proto._writev = writev
      return n
    },
  }
}

/** The port of a postgres:// or redis:// URL (`fallback` when it names none). */
export const portOf = (url: string, fallback: number): number => Number(new URL(url).port || fallback)
