#!/usr/bin/env bash
# Demo benchmark: times `daylight demo --no-serve` in a release build (20,000 virtual accounts
# through an SQLite database: 60 days under the baseline, two models trained, a 30-day
# experiment, the report), process start to exit, with its peak RSS and its phases.
#
#   bench/demo.sh
#   ACCOUNTS=10000 bench/demo.sh
#
# Target (issue 6): ≤ 180 s on two cores.
set -euo pipefail

ACCOUNTS=${ACCOUNTS:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

/usr/bin/time -f "%e %M" -o "$work/time" "$bin" demo --dir "$work/demo" --accounts "$ACCOUNTS" --no-serve \
    >"$work/out.txt"
read -r secs kb <"$work/time"
grep -E '^[0-9]\. ' "$work/out.txt" | sed -E 's/^([0-9]\.) (.{0,60}).*\((.*)\)$/\1 \2… (\3)/'
grep -E 'attempts \(gated\)|gate disagreements' "$work/out.txt"
du -sh "$work/demo/daylight.db" | awk '{print "database: " $1}'
awk -v s="$secs" -v k="$kb" -v n="$ACCOUNTS" 'BEGIN {
    printf "daylight demo: %d accounts, 90 days through SQLite in %.1f s, peak RSS %.0f MB (target 180 s)\n",
        n, s, k / 1024 }'
