#!/usr/bin/env bash
# QC throughput: transcripts of ~2,000 characters analysed per second, on one core and on two
# threads (criterion, release build). The calls are the labelled corpus's, each padded with the
# next calls' turns to 2,000 characters. Target: 5,000 transcripts/s on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo bench -p daylight-qc --bench analyze -- --warm-up-time 2 --measurement-time "${SECONDS_PER:-5}" 2>&1)
echo "$out" | grep -E '^qc/|thrpt:' | grep -v '%'
one=$(echo "$out" | grep -A2 'qc/analyze_one_core' | grep 'thrpt:' | head -1 | awk '{print $4 * 1000}')
two=$(echo "$out" | grep -A2 'qc/analyze_two_threads' | grep 'thrpt:' | head -1 | awk '{print $4 * 1000}')
echo "one core:    $one transcripts/s"
echo "two threads: $two transcripts/s (target 5000)"
