#!/usr/bin/env python3
"""Cross-check Daylight's holiday calendar against the Python package chinese-calendar.

    pip install chinese-calendar
    python3 bench/check_calendar.py [path/to/daylight]

For each year Daylight ships, compares `daylight calendar cn --year Y --json` (days off and
make-up working days) with chinese_calendar's. Exits 1 on any difference. A cross-check only:
chinese-calendar is never a runtime dependency.
"""
import json
import subprocess
import sys

import chinese_calendar
from chinese_calendar.constants import holidays, workdays

daylight = sys.argv[1] if len(sys.argv) > 1 else "target/release/daylight"
bad = 0
for year in range(2020, 2027):
    out = subprocess.run([daylight, "calendar", "cn", "--year", str(year), "--json"],
                         check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    theirs_off = sorted(d.isoformat() for d in holidays if d.year == year)
    theirs_work = sorted(d.isoformat() for d in workdays if d.year == year)
    same = ours["holidays"] == theirs_off and ours["workdays"] == theirs_work
    print(f"{year}: {len(ours['holidays'])} days off, {len(ours['workdays'])} make-up working days: "
          + ("same as chinese-calendar " + chinese_calendar.__version__ if same else "DIFFERENT"))
    if not same:
        bad += 1
        print("  only Daylight:", sorted(set(ours["holidays"] + ours["workdays"]) - set(theirs_off + theirs_work)))
        print("  only chinese-calendar:", sorted(set(theirs_off + theirs_work) - set(ours["holidays"] + ours["workdays"])))
sys.exit(1 if bad else 0)
