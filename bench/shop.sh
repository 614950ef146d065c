#!/usr/bin/env bash
# The logged-in product page through Causeway's whole default stack (causeway up on PostgreSQL)
# against nginx → Gunicorn → Django in one run of the shared anchors harness (issue 8's target:
# ≥ 8× the requests/s with a lower p99).
#   bench/shop.sh [--duration 10 --warmup 10 ...]        (extra args go to anchors/run)
# Defaults: 10 s of warm-up, then 10 s measured. V8 optimizes a function only after thousands of
# calls, and each of the stack's processes (edge, two workers) sees a share of the load: after the
# harness's default 2 s (or 1 s) they still run partly unoptimized code and TurboFan compiles on
# the measured seconds (on this machine: 2,099 pages/s after 1 s of warm-up, 3,523 after 5 s,
# 3,743 after 10 s, against Django's 462–540 in the same runs). CPython has no JIT to warm, so
# the anchor's figure does not depend on it.
exec "$(dirname "${BASH_SOURCE[0]}")/anchors-run.sh" shop "${ENDPOINTS:-product}" "causeway-shop django-nginx" --warmup 10 --duration 10 "$@"
