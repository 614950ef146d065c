// Timeouts for upstream connections without a timer per request: one shared interval ticks while
// any connection is open, and each tick asks every registered connection to check its deadlines.
// A timeout therefore fires up to one tick late — fine for connect, read and idle timeouts of
// hundreds of ms and more, and far cheaper than arming and clearing a timer per request.

/** Tick length (ms): the most a timeout can fire late. */
export const TICK_MS = 100

export interface Ticking {
  /** Called every tick with the current time (Date.now()). */
  tick(now: number): void
}

const members = new Set<Ticking>()
let interval: NodeJS.Timeout | undefined

function onTick(): void {
  const now = Date.now()
  for (const m of members) m.tick(now)
}

export function register(m: Ticking): void {
  members.add(m)
  if (interval === undefined) {
    interval = setInterval(onTick, TICK_MS)
    interval.unref()
  }
}

export function unregister(m: Ticking): void {
  members.delete(m)
  if (members.size === 0 && interval !== undefined) {
    clearInterval(interval)
    interval = undefined
  }
}
