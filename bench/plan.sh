#!/usr/bin/env bash
# Daily-plan benchmark: generates a portfolio (default 2,000,000 customers with one card account
# each, about half of them delinquent: ~1,000,000 open cases) and a payment history, imports it
# into SQLite, and times `daylight plan` for the next working day, process start to exit, in a
# release build, with its peak RSS.
#
#   bench/plan.sh                        # ~1M open cases
#   CUSTOMERS=200000 bench/plan.sh       # ~100k open cases
#
# Target (issue 5): 1M open cases planned in ≤ 10 s on two cores with ≤ 2 GB RSS.
set -euo pipefail

CUSTOMERS=${CUSTOMERS:-2000000}
PAYMENTS=${PAYMENTS:-$((CUSTOMERS / 4))}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-plan-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

echo "generating $CUSTOMERS customers, $CUSTOMERS accounts, $PAYMENTS payments…" >&2
python3 "$root/bench/gen_portfolio.py" --customers "$CUSTOMERS" --accounts "$CUSTOMERS" \
    --payments "$PAYMENTS" --out "$work/data"
url="sqlite://$work/plan.db"
"$bin" --db "$url" init >/dev/null
for kind in customers accounts payments; do
    "$bin" --db "$url" import "$kind" "$work/data/$kind.csv" >/dev/null
done
open=$("$bin" --db "$url" stats --json | python3 -c \
    'import json,sys; print(sum(c["cases"] for c in json.load(sys.stdin)["cases"] if c["status"] == "open"))')

# Plan Tuesday 24 November 2026 as of the evening before (Shanghai).
/usr/bin/time -f "%e %M" -o "$work/time" "$bin" --db "$url" plan --date 2026-11-24 \
    --as-of 2026-11-23T12:00:00Z >"$work/out"
read -r secs kb <"$work/time"
summary=$(head -1 "$work/out")
echo "open cases: $open"
echo "$summary"
awk -v s="$secs" -v k="$kb" -v n="$open" 'BEGIN {
    printf "daylight plan: %.2f s, peak RSS %.0f MB, %.0f open cases/s\n", s, k / 1024, n / s }'
"$bin" --db "$url" plan --date 2026-11-24 --replay >/dev/null && echo "replay: identical"
