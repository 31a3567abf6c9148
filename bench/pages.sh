#!/usr/bin/env bash
# Server time of every console page on the demo's data (issue 7: no page over 200 ms). Sets up
# the full demo (20,000 accounts, 60 + 30 days: about three minutes) unless DIR names one
# already made by `daylight demo`, serves it on its morning, signs in as the demo's admin (all
# cases) and team lead (team T1), asks each page RUNS times, and prints each route's server
# time (from the server's JSON request log): first, median and max.
#
#   bench/pages.sh
#   DIR=daylight-demo RUNS=5 bench/pages.sh
set -euo pipefail

RUNS=${RUNS:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t daylight-pages-XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "building (release)…" >&2
cargo build --release --quiet -p daylight-cli --manifest-path "$root/Cargo.toml"
bin="$root/target/release/daylight"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if [ -z "${DIR:-}" ]; then
    echo "the demo (about three minutes)…" >&2
    "$bin" demo --dir "$work/demo" --no-serve --bind "127.0.0.1:$port" >"$work/demo.txt"
    DIR="$work/demo"
    passwords="$work/demo.txt"
else
    passwords=""
fi
db="$DIR/daylight.db"
url="sqlite://$db"
# The demo's users' passwords are printed once; set known ones for the measurement.
password='Bench-Pages-2026!'
for who in A001:admin L001:team_lead; do
    login=${who%%:*}
    role=${who#*:}
    if [ -n "$passwords" ] && grep -q "^  $login " "$passwords"; then
        pw=$(awk -v l="$login" '$1 == l { print $3 }' "$passwords")
        eval "pw_$login=\$pw"
    else
        echo "$password" | "$bin" --db "$url" user add --login "P$login" --name 计时 --role "$role" \
            $([ "$role" = team_lead ] && echo --team T1) --password-stdin >/dev/null 2>&1 || true
        eval "pw_$login=\$password"
    fi
done
clock=$(sqlite3 "$db" "SELECT max(at) FROM attempts" | cut -c1-10)
clock="${clock}T01:30:00Z"

# The admin enrols a second factor below: one from an earlier run goes first.
for a in A001 PA001; do "$bin" --db "$url" user reset-second-factor --login "$a" >/dev/null 2>&1 || true; done
started=$(date +%s)
"$bin" --db "$url" serve --bind "127.0.0.1:$port" --clock "$clock" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

sign_in() { # login password jar
    curl -sf -c "$3" -H 'content-type: application/json' \
        -d "{\"login\":\"$1\",\"password\":\"$2\"}" "http://127.0.0.1:$port/api/login" >/dev/null
}
admin=A001; lead=L001
[ -n "$passwords" ] || { admin=PA001; lead=PL001; }
sign_in "$admin" "$pw_A001" "$work/admin.jar"
# An admin signs in with a second factor: enrol one (the code at the server's clock).
csrf=$(curl -sf -c "$work/admin.jar" -H 'content-type: application/json' \
    -d "{\"login\":\"$admin\",\"password\":\"$pw_A001\"}" "http://127.0.0.1:$port/api/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')
secret=$(curl -sf -b "$work/admin.jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d '{}' \
    "http://127.0.0.1:$port/api/me/second-factor" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
code=$(python3 "$(dirname "$0")/totp.py" "$secret" "$clock" "$started")
curl -sf -b "$work/admin.jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d "{\"code\":\"$code\"}" "http://127.0.0.1:$port/api/me/second-factor/confirm" >/dev/null
sign_in "$lead" "$pw_L001" "$work/lead.jar"
case=$(sqlite3 "$db" "SELECT id FROM cases WHERE status = 'open' AND team = 'T1' LIMIT 1")
qc_call=$(sqlite3 "$db" "SELECT attempt_id FROM qc_calls LIMIT 1")
experiment=$(sqlite3 "$db" "SELECT name FROM experiments LIMIT 1")
# A debtor who calls back, by the full mobile of an open case of the team (issue 23's search).
point=$(sqlite3 "$db" "SELECT p.id FROM contact_points p JOIN cases c ON c.customer_id = p.customer_id WHERE c.id = '$case' AND p.kind = 'phone' AND p.role = 'debtor' LIMIT 1")
mobile=$("$bin" --db "$url" case show "$case" --reveal "contact:$point" --purpose "页面计时" 2>/dev/null |
    grep -o '1[3-9][0-9]\{9\}' | head -1 || true)
if [ -n "$mobile" ]; then echo "search by mobile: found one" >&2; else echo "search by mobile: none (skipped)" >&2; fi

pages=(/workbench "/cases/$case" /approvals /dashboard "/dashboard?by=team&period=30d"
    "/dashboard?by=bucket&period=30d" "/dashboard?by=collector&period=30d" "/dashboard?by=agency&period=30d"
    "/export/kpis.xlsx?by=bucket&period=30d" /export/team-cases.xlsx /team /admin/users /admin/policy
    /admin/strategy "/side?c=$case" /qc "/qc?code=DEBTOR_HARDSHIP" ${qc_call:+"/qc/$qc_call"}
    /scripts "/workbench?sort=overdue&worked=no&min_overdue=5000" "/workbench?page=3" "/team?page=40"
    "/team?bucket=M3" "/workbench?q=$case" ${mobile:+"/workbench?q=$mobile"} /board
    ${experiment:+"/admin/experiments/$experiment"} "/workbench?promise_due=yes")
for jar in lead admin; do
    for page in "${pages[@]}"; do
        for _ in $(seq "$RUNS"); do
            curl -s -o /dev/null -b "$work/$jar.jar" "http://127.0.0.1:$port$page"
        done
    done
done

# "Callable now" puts every planned case of the queue to the engine: timed on its own (the
# log groups by route).
for jar in lead admin; do
    for _ in $(seq "$RUNS"); do
        curl -s -o /dev/null -w "callable now ($jar): %{time_total}s\n" -b "$work/$jar.jar" \
            "http://127.0.0.1:$port/workbench?callable=yes" >&2
    done
done

python3 - "$work/serve.log" "$admin" "$lead" <<'PY'
import collections, json, statistics, sys
log, admin, lead = sys.argv[1:]
times = collections.OrderedDict()
for line in open(log):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    if "ms" not in j or "route" not in j or j.get("login") not in (admin, lead):
        continue
    who = "admin (all cases)" if j["login"] == admin else "team lead (T1)"
    times.setdefault((who, j["route"], j.get("status")), []).append(j["ms"])
print(f"{'who':18} {'route':22} {'status':>6} {'n':>3} {'first':>8} {'median':>8} {'max':>8}")
worst = 0.0
for (who, route, status), ms in times.items():
    worst = max(worst, max(ms))
    print(f"{who:18} {route:22} {status:>6} {len(ms):>3} {ms[0]:>8.1f} {statistics.median(ms):>8.1f} {max(ms):>8.1f}")
print(f"slowest request: {worst:.1f} ms (budget 200 ms)")
PY
