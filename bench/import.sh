#!/usr/bin/env bash
# Import benchmark: generates a portfolio (default 500,000 customers and 1,000,000 card
# accounts, every row valid) and times `daylight import` on SQLite and on a private
# PostgreSQL 15 server, for a first load and for a re-import of the same accounts (every row an
# update). Each time is the whole command, from process start to exit, in a release build.
#
#   bench/import.sh                  # 1M accounts
#   ROWS=200000 bench/import.sh      # smaller
#   BACKENDS=sqlite bench/import.sh  # SQLite only
#
# Prints a table: backend, step, rows, seconds, rows/s. Target (issue 2): ≥ 200k validated
# account rows/s into SQLite.
set -euo pipefail

ROWS=${ROWS:-1000000}
CUSTOMERS=${CUSTOMERS:-$((ROWS / 2))}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG_BIN=${DAYLIGHT_PG_BIN:-/usr/lib/postgresql/15/bin}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-bench-XXXXXX)
pg_data=""

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    if [ -n "$pg_data" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"

echo "generating $CUSTOMERS customers and $ROWS accounts…" >&2
python3 "$root/bench/gen_portfolio.py" --customers "$CUSTOMERS" --accounts "$ROWS" --out "$work/data"

results=()
timed() { # backend step rows command…
    local backend=$1 step=$2 rows=$3; shift 3
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    results+=("$(awk -v b="$backend" -v s="$step" -v r="$rows" -v t0="$start" -v t1="$end" \
        'BEGIN { t = t1 - t0; printf "%-9s %-22s %9d %8.2f %10.0f", b, s, r, t, r / t }')")
}

run_backend() { # backend url
    local backend=$1 url=$2
    "$bin" --db "$url" init >/dev/null
    timed "$backend" "customers (new)" "$CUSTOMERS" "$bin" --db "$url" import customers "$work/data/customers.csv"
    timed "$backend" "accounts (--check)" "$ROWS" "$bin" --db "$url" import accounts "$work/data/accounts.csv" --check
    timed "$backend" "accounts (new)" "$ROWS" "$bin" --db "$url" import accounts "$work/data/accounts.csv"
    timed "$backend" "accounts (all updated)" "$ROWS" "$bin" --db "$url" import accounts "$work/data/accounts.csv"
    "$bin" --db "$url" ledger verify >/dev/null
}

for backend in $BACKENDS; do
    case $backend in
        sqlite)
            run_backend sqlite "sqlite://$work/bench.db"
            ;;
        postgres)
            pg_data="$work/pg"
            mkdir -p "$pg_data"
            [ "$(id -u)" = 0 ] && chown postgres "$work" "$pg_data"
            as_postgres "$PG_BIN/initdb" -D "$pg_data" -U daylight -A trust -E UTF8 --locale=C --no-instructions >/dev/null
            port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
            # Durable settings (fsync on), as a bank would run it.
            as_postgres "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_data/log" -w \
                -o "-p $port -k $pg_data -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
            as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U daylight bench
            run_backend postgres "postgres://daylight@127.0.0.1:$port/bench"
            ;;
        *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
done

echo
echo "$(nproc) cores, $(uname -m); each time is the whole daylight command (release build)"
printf '%-9s %-22s %9s %8s %10s\n' backend step rows seconds rows/s
printf '%s\n' "${results[@]}"
