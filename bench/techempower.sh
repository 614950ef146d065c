#!/usr/bin/env bash
# Causeway's TechEmpower example against the Fastify + pg anchor (both 2 workers) in one run of the
# shared anchors harness, on the anchors' PostgreSQL database.
#   bench/techempower.sh [--duration 5 --warmup 1 ...]      (extra args go to anchors/run)
# Default endpoints: plaintext,json,db,fortunes (ENDPOINTS=... to change). Results: $OUT_DIR
# (default /tmp/causeway-bench)/techempower-<time>.{json,md}; the harness keeps logs in its results/.
exec "$(dirname "${BASH_SOURCE[0]}")/anchors-run.sh" techempower "${ENDPOINTS:-plaintext,json,db,fortunes}" "causeway-te fastify" "$@"
