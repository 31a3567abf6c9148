#!/usr/bin/env bash
# Daylight's GBDT against XGBoost and LightGBM (installed with pip in a throwaway venv).
#   bench/gbdt_vs_peers.sh [path/to/daylight]
set -euo pipefail
cd "$(dirname "$0")/.."
DAYLIGHT=${1:-target/release/daylight}
DATA=${DAYLIGHT_DATA_DIR:-../shared/data}/uci_credit_card_default.csv
[ -x "$DAYLIGHT" ] || cargo build --release -p daylight-cli
VENV=${VENV:-$(mktemp -d)/venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q xgboost lightgbm scikit-learn "pandas<3"
"$VENV/bin/python" bench/gbdt_vs_peers.py "$DAYLIGHT" "$DATA"
