#!/usr/bin/env bash
# Load benchmark of `daylight serve` on SQLite: 1,000 simulated collectors, each signed in with
# a session of their own, working their queues (the workbench page, a case page, the queue and
# a case by the API, a note, a contact through the compliance gate) with a think time of about
# a second between requests. Measured with wrk (Debian's `wrk`) from the same machine.
#
#   bench/serve.sh
#   COLLECTORS=1000 ACCOUNTS=20000 DURATION=60s THINK_MS=1000 bench/serve.sh
#
# Target (issue 7): p99 ≤ 50 ms. Reports p50/p90/p99, throughput, and per route the server's
# own time from /metrics.
set -euo pipefail

COLLECTORS=${COLLECTORS:-1000}
ACCOUNTS=${ACCOUNTS:-20000}
DURATION=${DURATION:-60s}
THINK_MS=${THINK_MS:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-serve-XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "portfolio: the demo with $ACCOUNTS accounts and a week of history…" >&2
"$bin" demo --dir "$work/demo" --accounts "$ACCOUNTS" --history-days 5 --days 2 --no-serve \
    --bind "127.0.0.1:$port" >"$work/demo.txt"
db="$work/demo/daylight.db"
url="sqlite://$db"
clock=$(sed -n 's/.* --clock \([^ ]*\)$/\1/p' "$work/demo.txt")

echo "$COLLECTORS collectors, the open cases shared among them…" >&2
password='Bench-Collector-2026'
echo "$password" | "$bin" --db "$url" user add --login B0000 --name 压测 --role collector --team T1 \
    --password-stdin >/dev/null
# The other collectors are copies of B0000 (the same password hash): argon2 for each of 1,000
# users would only slow the set-up.
sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COLLECTORS - 1)
  INSERT INTO users (login, name, mobile, role, team, agency, password_hash, must_change, disabled,
    failed_logins, locked_until, password_set_at, created_by, created_at)
  SELECT printf('B%04d', i), name, NULL, role, team, agency, password_hash, must_change, disabled, 0, NULL,
    password_set_at, created_by, created_at FROM users, n WHERE login = 'B0000';
  UPDATE cases SET team = 'T1', collector = printf('B%04d', CAST(substr(customer_id, 2) AS INTEGER) % $COLLECTORS)
  WHERE status = 'open';"

cat >"$work/bench.toml" <<TOML
[limits]
requests_per_second = 1000000
burst = 1000000
logins_per_minute = 100000
[log]
level = "warn"
TOML
"$bin" --db "$url" serve --config "$work/bench.toml" --bind "127.0.0.1:$port" --clock "$clock" \
    2>"$work/server.log" &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

echo "signing in $COLLECTORS collectors…" >&2
sign_in() {
    local login=$1 jar="$work/jar.$1"
    local csrf
    csrf=$(curl -sf -c "$jar" -H 'content-type: application/json' \
        -d "{\"login\":\"$login\",\"password\":\"$password\"}" "http://127.0.0.1:$port/api/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
    local cookie
    cookie=$(awk '$6 == "daylight_session" {print $6 "=" $7}' "$jar")
    local cases
    cases=$(curl -sf -b "$jar" "http://127.0.0.1:$port/api/queue" |
        python3 -c 'import json,sys; print(",".join(i["case"] for i in json.load(sys.stdin)[:10]))')
    printf '%s\t%s\t%s\n' "$cookie" "$csrf" "$cases"
    rm -f "$jar"
}
export -f sign_in
export work port password
seq 0 $((COLLECTORS - 1)) | xargs -P 2 -I{} bash -c 'sign_in $(printf "B%04d" {})' >"$work/sessions.tsv"
signed=$(grep -c "daylight_session=" "$work/sessions.tsv" || true)
[ "$signed" -eq "$COLLECTORS" ] || { echo "only $signed of $COLLECTORS collectors signed in" >&2; tail -5 "$work/server.log" >&2; exit 1; }
echo "$signed sessions; running wrk for $DURATION (think time ~${THINK_MS} ms)…" >&2

# One connection per collector: raise the open-file limit as far as this shell may.
[ "$(ulimit -n)" -ge $((COLLECTORS + 100)) ] || ulimit -n "$(ulimit -Hn)"
wrk -t2 -c"$COLLECTORS" -d"$DURATION" --timeout 10s -s "$root/bench/serve.lua" "http://127.0.0.1:$port" \
    -- "$work/sessions.tsv" "$THINK_MS" >"$work/wrk.txt"
grep -E '^(requests|latency|throughput)' "$work/wrk.txt"
grep -E 'Non-2xx' "$work/wrk.txt" || true

echo "server time by route (from /metrics: requests, mean, share within 50 ms and 200 ms):"
curl -sf "http://127.0.0.1:$port/metrics" | python3 -c '
import re, sys
counts, sums, le50, le200 = {}, {}, {}, {}
for line in sys.stdin:
    m = re.match(r"http_request_duration_seconds_(count|sum|bucket)\{(.*)\} (\S+)", line)
    if not m: continue
    kind, labels, v = m.group(1), dict(re.findall(r"(\w+)=\"([^\"]*)\"", m.group(2))), float(m.group(3))
    key = labels["method"] + " " + labels["route"]
    if kind == "count": counts[key] = v
    elif kind == "sum": sums[key] = v
    elif labels.get("le") == "0.05": le50[key] = v
    elif labels.get("le") == "0.2": le200[key] = v
for key in sorted(counts, key=lambda k: -counts[k]):
    n = counts[key]
    if n < 10: continue
    print(f"  {key:<36} {int(n):>8}  mean {1000 * sums[key] / n:6.1f} ms  ≤50 ms {100 * le50.get(key, 0) / n:5.1f} %  ≤200 ms {100 * le200.get(key, 0) / n:5.1f} %")
'
