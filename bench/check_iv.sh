#!/usr/bin/env bash
# Cross-check `daylight model iv` against toad (and scorecardpy on categorical features).
#
#   bench/check_iv.sh [path/to/daylight]
#
# Installs toad, scikit-learn and scorecardpy in a throwaway venv (they are never runtime
# dependencies), computes every feature's IV on ../shared/data/uci_credit_card_default.csv and on
# a categorical sample with both tools, and fails on any difference above 1e-12.
set -euo pipefail
cd "$(dirname "$0")/.."
DAYLIGHT=${1:-target/release/daylight}
DATA=${DAYLIGHT_DATA_DIR:-../shared/data}/uci_credit_card_default.csv
[ -x "$DAYLIGHT" ] || cargo build --release -p daylight-cli
VENV=${VENV:-$(mktemp -d)/venv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q toad scikit-learn scorecardpy "pandas<3"
"$VENV/bin/python" bench/check_iv.py "$DAYLIGHT" "$DATA"
