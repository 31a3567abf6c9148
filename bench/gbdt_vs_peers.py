"""Daylight's gradient-boosted trees against XGBoost and LightGBM on the UCI credit-card data.

Same fixed 80/20 split, depth, rounds, learning rate, sampling, bins and threads for all three.
Reports AUC on the 20 %, training seconds, prediction rows/s on one thread and on all cores
(1,000,000 rows: the test rows repeated), the ratios to XGBoost, and how closely Daylight
reproduces XGBoost's and LightGBM's own predictions of their models.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import lightgbm as lgb
import xgboost as xgb
from sklearn.metrics import roc_auc_score

daylight, data = sys.argv[1], sys.argv[2]
ROUNDS, DEPTH, ETA, SUB, COL, BINS = 300, 6, 0.05, 0.8, 0.8, 256
THREADS = os.cpu_count()
ROWS = 1_000_000

df = pd.read_csv(data)
perm = np.random.RandomState(42).permutation(len(df))
cut = int(len(df) * 0.8)
train, test = df.iloc[perm[:cut]], df.iloc[perm[cut:]]
tmp = tempfile.mkdtemp()
train_csv, test_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
train.to_csv(train_csv, index=False)
test.to_csv(test_csv, index=False)
features = [c for c in df.columns if c not in ("ID", "Y")]
Xtr, ytr, Xte, yte = train[features], train["Y"], test[features], test["Y"]
big = np.tile(Xte.to_numpy(dtype=np.float32), (ROWS // len(Xte) + 1, 1))[:ROWS]
rows = []


def speed(predict, threads):
    predict(big[:1000], threads)
    t = time.perf_counter()
    predict(big, threads)
    return ROWS / (time.perf_counter() - t)


# XGBoost
dtr = xgb.DMatrix(Xtr, label=ytr)
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": DEPTH, "eta": ETA,
          "subsample": SUB, "colsample_bytree": COL, "max_bin": BINS, "nthread": THREADS, "seed": 42}
t = time.perf_counter()
booster = xgb.train(params, dtr, ROUNDS)
xgb_train = time.perf_counter() - t
xgb_pred = booster.predict(xgb.DMatrix(Xte))
def xgb_predict(x, threads):
    booster.set_param({"nthread": threads})
    return booster.inplace_predict(x)
rows.append(("XGBoost " + xgb.__version__, roc_auc_score(yte, xgb_pred), xgb_train,
             speed(xgb_predict, 1), speed(xgb_predict, THREADS)))
xgb_model = os.path.join(tmp, "xgb.json")
booster.save_model(xgb_model)

# LightGBM
lparams = {"objective": "binary", "max_depth": DEPTH, "num_leaves": 2 ** DEPTH - 1, "learning_rate": ETA,
           "bagging_fraction": SUB, "bagging_freq": 1, "feature_fraction": COL, "max_bin": BINS - 1,
           "num_threads": THREADS, "seed": 42, "verbose": -1}
t = time.perf_counter()
lbooster = lgb.train(lparams, lgb.Dataset(Xtr, label=ytr), ROUNDS)
lgb_train = time.perf_counter() - t
lgb_pred = lbooster.predict(Xte)
rows.append(("LightGBM " + lgb.__version__, roc_auc_score(yte, lgb_pred), lgb_train,
             speed(lambda x, n: lbooster.predict(x, num_threads=n), 1),
             speed(lambda x, n: lbooster.predict(x, num_threads=n), THREADS)))
lgb_model = os.path.join(tmp, "lgb.txt")
lbooster.save_model(lgb_model)

# Daylight
ours_model = os.path.join(tmp, "daylight.json")
out = subprocess.run([daylight, "model", "train", "--data", train_csv, "--holdout", test_csv, "--target", "Y",
                      "--exclude", "ID", "--out", ours_model, "--json", "--params",
                      f"rounds={ROUNDS},max_depth={DEPTH},eta={ETA},subsample={SUB},colsample_bytree={COL},"
                      f"max_bin={BINS},threads={THREADS}"], check=True, capture_output=True, text=True).stdout
trained = json.loads(out)
bench = json.loads(subprocess.run([daylight, "model", "bench-predict", "--model", ours_model, "--data", test_csv,
                                   "--rows", str(ROWS), "--json"], check=True, capture_output=True, text=True).stdout)
by_threads = {r["threads"]: r["rows_per_s"] for r in bench["runs"]}
# The boosting alone, as xgb.train and lgb.train are timed (the whole command also encodes, splits,
# scores the held-out rows and writes the model).
rows.insert(0, ("Daylight (hessboost)", trained["metrics"]["auc"], trained["fit_seconds"], by_threads[1],
                by_threads[max(by_threads)]))

print(f"UCI credit-card default: {len(train)} training rows, {len(test)} test rows, {len(features)} features;"
      f" depth {DEPTH}, {ROUNDS} rounds, eta {ETA}, subsample {SUB}, colsample {COL}, {BINS} bins, {THREADS} threads")
print(f"| library | AUC | training s | predict rows/s (1 thread) | predict rows/s ({THREADS} threads) |")
print("|---|---:|---:|---:|---:|")
for name, auc, secs, one, many in rows:
    print(f"| {name} | {auc:.4f} | {secs:.2f} | {one:,.0f} | {many:,.0f} |")
d, x = rows[0], rows[1]
print(f"\nDaylight's whole `model train` run (encode, split, boost, score the held-out rows, write): "
      f"{trained['seconds']:.2f} s")
print(f"\nDaylight vs XGBoost: AUC {d[1] - x[1]:+.4f}; training time {d[2] / x[2]:.2f}x;"
      f" prediction {d[3] / x[3]:.1f}x (1 thread), {d[4] / x[4]:.1f}x ({THREADS} threads)")


def ours_predict(model):
    out = subprocess.run([daylight, "model", "predict", "--model", model, "--data", test_csv],
                         check=True, capture_output=True, text=True).stdout.splitlines()[1:]
    return np.array([float(l.split(",")[1]) for l in out])


dx = np.max(np.abs(ours_predict(xgb_model) - xgb_pred))
dl = np.max(np.abs(ours_predict(lgb_model) - lgb_pred))
print(f"XGBoost's model scored by Daylight: largest difference from XGBoost {dx:.1e}")
print(f"LightGBM's model scored by Daylight: largest difference from LightGBM {dl:.1e}")
ok = d[1] >= x[1] - 0.003 and dx < 1e-6 and dl < 1e-6
sys.exit(0 if ok else 1)
