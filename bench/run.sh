#!/usr/bin/env bash
# The benchmark in one command (issue 6): bench/run.sh [--evidence N] [--only NAME...]
# Needs PostgreSQL on 127.0.0.1:5432 and, for the app's shared cache, Redis on 6379.
# Installs the bench-only dependency (Datasette) into .venv; wrk from Debian
# is used for the throughput runs when present (apt-get install wrk), else Python threads.
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
.venv/bin/python -m pip install --quiet -e ".[dev,bench]"
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kb_perf}"
DBNAME="${DB##*/}"
psql "${DB%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$DBNAME"
export BENCH_REDIS_URL="${BENCH_REDIS_URL-redis://127.0.0.1:6379/6}"
exec .venv/bin/python -m bench.run --database-url "$DB" "$@"
