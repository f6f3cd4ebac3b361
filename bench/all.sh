#!/usr/bin/env bash
# Every bench behind BENCHMARKS.md's current table, one after the other
# (never two at once: they would slow each other down), with the services
# the README's test section starts. Prints the lines the table takes its
# figures from; the whole output is in target/bench-all.log.
#
#   REDIS_URL=redis://127.0.0.1:6379 \
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bash bench/all.sh
#
# About 50 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_URL:?set REDIS_URL}"
: "${DATABASE_URL:?set DATABASE_URL}"
log=target/bench-all.log
mkdir -p target
: >"$log"
run() { echo "== $*" | tee -a "$log"; "$@" 2>&1 | tee -a "$log" >/dev/null; }
# without services: maps, tower-sessions, actix-session in paired rounds,
# then the criterion groups (the cookie budget's whole request, listings)
run env -u REDIS_URL JOBSESS_BENCH_PAIRED=1 cargo bench -p jobsess-benches -- \
  "actix_cookie_budget_request|btree_map|json_map|mutex_update"
# Redis: paired rounds, the HTTP route, what a user would use instead
run env JOBSESS_BENCH_PAIRED=1 JOBSESS_BENCH_HTTP=1 cargo bench -p jobsess-lab --bench redis
# PostgreSQL: paired rounds, tower-sessions-sqlx-store instead, the HTTP route
run env JOBSESS_BENCH_PAIRED=1 JOBSESS_BENCH_HTTP=1 cargo bench -p jobsess-lab --bench postgres
# watch: fan-out latency and a writer's slowdown, three runs each
run cargo bench -p jobsess-lab --bench watch
# SQLite (a file under target/): paired rounds, then a write in another
# process reaching an SSE client, and the poll's idle CPU
run env JOBSESS_BENCH_PAIRED=1 JOBSESS_BENCH_WATCH=1 cargo bench -p jobsess-lab --bench sqlite
# one owner with 100, 1,000 and 10,000 jobs (Redis, SQLite, PostgreSQL)
run cargo bench -p jobsess-lab --bench owners
# 10,000 SSE watchers on one app instance (a process of its own), twice
run cargo bench -p jobsess-lab --bench watchers
# a route's cost against the user's job count, on each backend
run cargo bench -p jobsess-lab --bench routes
# a million stored jobs on a Redis and a PostgreSQL of the bench's own
run cargo bench -p jobsess-lab --bench stored
grep -E '^(== |[a-z_0-9/]+ +time:|[a-z_]+(/[a-z_0-9]+)*/paired|redis_http/[0-9]+:|postgres_http/[0-9]+:|watch_|sqlite_watch_|owners_|watchers_|routes_|stored_)|^[a-z_]+/[a-z_0-9]+$' "$log" \
  | grep -v '^Benchmarking' || true
