"""Compare `daylight model iv --json` with toad.stats.IV (and scorecardpy.iv on categories)."""
import json
import subprocess
import sys
import tempfile

import pandas as pd
import toad

daylight, data = sys.argv[1], sys.argv[2]
worst = 0.0


def ours(path, target, extra=()):
    out = subprocess.run([daylight, "model", "iv", "--data", path, "--target", target, "--json", *extra],
                         check=True, capture_output=True, text=True).stdout
    return {f["name"]: f["iv"] for f in json.loads(out)["features"]}


df = pd.read_csv(data)
mine = ours(data, "Y", ["--exclude", "ID"])
print(f"{'feature':8} {'daylight':>20} {'toad':>20} {'diff':>9}")
for c in df.columns:
    if c in ("ID", "Y"):
        continue
    theirs = float(toad.stats.IV(df[c], df["Y"]))
    diff = abs(mine[c] - theirs)
    worst = max(worst, diff)
    print(f"{c:8} {mine[c]:20.16f} {theirs:20.16f} {diff:9.1e}")

# A categorical sample with an empty cell (no bad students): toad counts it as one.
rows = []
for cat, good, bad in [("个体户", 120, 40), ("学生", 30, 0), ("工薪", 600, 90), ("自由职业", 80, 35), ("退休", 50, 5)]:
    rows += [(cat, 1 if i < bad else 0) for i in range(good + bad)]
sample = pd.DataFrame(rows, columns=["job", "y"])
with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    sample.to_csv(f, index=False)
mine = ours(f.name, "y")["job"]
theirs = float(toad.stats.IV(sample["job"], sample["y"]))
diff = abs(mine - theirs)
worst = max(worst, diff)
print(f"{'job':8} {mine:20.16f} {theirs:20.16f} {diff:9.1e}  (categorical, one empty cell)")
try:
    import scorecardpy as sc
    full = sample[sample.job != "学生"]  # scorecardpy takes 0.9 for empty cells, toad 1
    sc_iv = float(sc.iv(full, y="y")["info_value"].iloc[0])
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as g:
        full.to_csv(g, index=False)
    mine_full = ours(g.name, "y")["job"]
    print(f"{'job*':8} {mine_full:20.16f} {sc_iv:20.16f} {abs(mine_full - sc_iv):9.1e}  (scorecardpy, no empty cell)")
    worst = max(worst, abs(mine_full - sc_iv))
except ImportError:
    print("scorecardpy not installed: skipped")
print(f"largest difference: {worst:.1e}")
sys.exit(0 if worst < 1e-12 else 1)
