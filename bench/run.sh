#!/usr/bin/env bash
# The benchmark in one command (issues 6 and 14): bench/run.sh [--sizes N...] [--only NAME...]
# By default: PostgreSQL at 10k, 100k, 500k and 2M evidence items and SQLite at 10k and
# 100k; any option given here replaces the default (e.g. --sizes 500000 --sqlite-sizes).
# Needs PostgreSQL on 127.0.0.1:5432 and, for the app as deployed, Redis on 6379.
# Installs the bench-only dependencies (Datasette, matplotlib) into .venv; wrk from Debian
# is used for the throughput runs when present (apt-get install wrk), else Python threads.
set -euo pipefail
cd "$(dirname "$0")/.."
make install >/dev/null
.venv/bin/python -m pip install --quiet -e ".[dev,bench]"
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kb_perf}"
export BENCH_REDIS_URL="${BENCH_REDIS_URL-redis://127.0.0.1:6379/6}"
exec .venv/bin/python -m bench.run --database-url "$DB" \
  --sizes 10000 100000 500000 2000000 --sqlite-sizes 10000 100000 "$@"
