#!/usr/bin/env bash
# Digital-twin benchmark: times `daylight simulate` (in memory: the real planner and compliance
# engine every day, the twin's behaviour and dynamics) in a release build, with its peak RSS.
#
#   bench/twin.sh                          # 1,000,000 accounts × 30 days
#   ACCOUNTS=200000 DAYS=30 bench/twin.sh  # smaller
#
# Target (issue 6): 1M accounts × 30 days in ≤ 120 s on two cores.
set -euo pipefail

ACCOUNTS=${ACCOUNTS:-1000000}
DAYS=${DAYS:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-twin-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

/usr/bin/time -f "%e %M" -o "$work/time" "$bin" simulate --accounts "$ACCOUNTS" --days "$DAYS" --seed 7 \
    --json >"$work/out.json"
read -r secs kb <"$work/time"
python3 - "$work/out.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"simulated: contact rate {s['contact_rate']:.3f}, contacts {s['contacts']}, violations {s['violations']}")
PY
awk -v s="$secs" -v k="$kb" -v n="$ACCOUNTS" -v d="$DAYS" 'BEGIN {
    printf "daylight simulate: %d accounts × %d days in %.1f s, peak RSS %.0f MB, %.0f account-days/s\n",
        n, d, s, k / 1024, n * d / s }'
