#!/usr/bin/env bash
# The shop's product page through `causeway up` on PostgreSQL (as bench/shop.sh's causeway-shop
# target), with per-process CPU over the measured part (edge, workers, master, PostgreSQL backends,
# Redis, from /proc: bench/proc-cpu.py) and the established TCP sockets per worker 2 s into the
# load (how the edge's upstream connections are split between the app server's workers).
# Hold the lock:  flock /tmp/bench.lock bench/shop-up-probe.sh [seconds]
# Extra node flags / settings come from the environment, e.g. CAUSEWAY_UP_NODE_ARGS=--trace-gc
# (GC lines land in $OUT/up.log), WEB_CONCURRENCY=3. Uses port 8011 (the lock holder's).
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
dur=${1:-5}
out=${OUT:-/tmp/causeway-up-probe}
mkdir -p "$out"
cd "$root"
export DATABASE_URL=${SHOP_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/causeway_shop_bench} REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} HTTPS_PORT=0 PORT=8011
export SECRET_KEY=bench-only-secret-key-not-for-production-0123456789 CAUSEWAY_DEMO_PASSWORD=causeway-demo-local CAUSEWAY_DATA_DIR=/tmp/causeway-shop-bench NODE_ENV=production
setsid node bin/causeway.js up examples/shop > "$out/up.log" 2>&1 &
pgid=$!
trap 'kill -TERM -- -$pgid 2>/dev/null; wait $pgid 2>/dev/null' EXIT
url=http://127.0.0.1:8011/products/wireless-headphones/
for _ in $(seq 1 120); do curl -sf -o /dev/null $url && break; sleep 0.5; done
cookie=$(node bench/shop-login-cookie.mjs http://127.0.0.1:8011)
H=(-H "Accept: text/html,application/xhtml+xml" -H "Accept-Encoding: gzip" -H "Cookie: $cookie")
# Warm-up (WARMUP seconds, default 10): until TurboFan has compiled the hot paths (bench/shop.sh).
wrk -t2 -c64 -d"${WARMUP:-10}s" "${H[@]}" $url > /dev/null
python3 "$here/proc-cpu.py" snap "$out/a.json"
(sleep 2; for p in $(pgrep -f 'src/server/worker-main.ts'); do echo "worker $p: $(ss -tnpH state established | grep -c "pid=$p,") tcp sockets (edge connections + its pg/redis/otlp)"; done > "$out/conns.txt") &
wrk -t2 -c64 -d"${dur}s" --latency "${H[@]}" $url > "$out/wrk.txt"
python3 "$here/proc-cpu.py" snap "$out/b.json"
grep -E "Requests/sec|50%|99%" "$out/wrk.txt"
python3 "$here/proc-cpu.py" diff "$out/a.json" "$out/b.json" "$dur"
cat "$out/conns.txt"
