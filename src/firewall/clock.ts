// The firewall's clock: Date.now() read once per event-loop turn, as nginx reads its clock once
// per event-loop iteration (ngx_time_update; limit_req decides on ngx_current_msec). Requests
// handled in the same turn were read from their sockets together and share one "now"; on this
// machine class Date.now() costs 100-200 ns, a large part of a memory-store decision. A long
// synchronous stretch (no turn ends) still re-reads the clock every READS_PER_CLOCK calls.
const READS_PER_CLOCK = 64

let cached = 0
let left = 0
let scheduled = false
const expire = () => { scheduled = false; left = 0 }

/** Milliseconds since the epoch, at most one event-loop turn (or 64 calls) old. */
export function loopNow(): number {
  if (left === 0) {
    cached = Date.now()
    left = READS_PER_CLOCK
    if (!scheduled) { scheduled = true; setImmediate(expire).unref() }
  }
  left--
  return cached
}
