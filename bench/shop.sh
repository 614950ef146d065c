#!/usr/bin/env bash
# The logged-in product page through Causeway's whole default stack (causeway up on PostgreSQL)
# against nginx → Gunicorn → Django in one run of the shared anchors harness (issue 8's target:
# ≥ 8× the requests/s with a lower p99).
#   bench/shop.sh [--duration 10 --warmup 2 ...]        (extra args go to anchors/run)
exec "$(dirname "${BASH_SOURCE[0]}")/anchors-run.sh" shop "${ENDPOINTS:-product}" "causeway-shop django-nginx" "$@"
