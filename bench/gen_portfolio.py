#!/usr/bin/env python3
"""Generates a synthetic portfolio for benchmarks: customers.csv and accounts.csv.

Every row is valid (GB 11643 resident-ID checksums, Luhn card numbers, consistent amounts), so
a benchmark measures the full validation and storage path, not the reject path.

    python3 bench/gen_portfolio.py --customers 500000 --accounts 1000000 --out /tmp/portfolio
"""
import argparse
import csv
import os
import random

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
REGIONS = ["110105", "310115", "440305", "330106", "510107", "420106", "320102", "610113"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
BINS = ["622848", "622588", "436742", "625965", "622700", "621700"]


def resident_id(i, rng):
    birth = f"{rng.randint(1960, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{REGIONS[i % len(REGIONS)]}{birth}{i % 1000:03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, W)) % 11]


def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # the check digit will sit to the right, so these positions double
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--payments", type=int, default=0, help="payments to write (payments.csv), on delinquent accounts")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    # Resident IDs must be unique: the sequence digits are i % 1000, so vary the birth date
    # by i as well by keeping a set.
    seen = set()
    with open(os.path.join(a.out, "customers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "name", "resident_id", "mobile", "region", "time_zone"])
        for i in range(a.customers):
            rid = resident_id(i, rng)
            while rid in seen:
                rid = resident_id(i, rng)
            seen.add(rid)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            w.writerow([f"C{i:08d}", name, rid, f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
                        "北京市", "Asia/Shanghai"])
    with open(os.path.join(a.out, "accounts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "customer_id", "card_number", "currency", "credit_limit", "balance",
                    "minimum_payment", "statement_day", "due_date", "cycles_delinquent", "days_past_due",
                    "overdue_principal", "overdue_interest", "overdue_fees", "overdue_late_fees"])
        delinquent = []
        for i in range(a.accounts):
            dpd = rng.choice([0, 0, 0, rng.randint(1, 30), rng.randint(31, 90), rng.randint(91, 400)])
            if dpd:
                delinquent.append(i)
            balance = rng.randint(100_00, 200_000_00)
            if dpd:
                principal = balance // 3
                interest, fees, late = principal // 100, 0, min(principal // 20, 2500 * (dpd // 30 + 1))
            else:
                principal = interest = fees = late = 0
            w.writerow([f"A{i:08d}", f"C{i % a.customers:08d}", luhn(BINS[i % len(BINS)] + f"{i:09d}"), "CNY",
                        yuan(rng.choice([10_000_00, 30_000_00, 50_000_00, 200_000_00])), yuan(balance),
                        yuan(balance // 10), rng.randint(1, 28), "2026-11-05", "", dpd,
                        yuan(principal), yuan(interest), yuan(fees), yuan(late)])

    if a.payments:
        with open(os.path.join(a.out, "payments.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["payment_id", "account_id", "paid_at", "amount", "currency", "channel"])
            for k in range(a.payments):
                i = delinquent[rng.randrange(len(delinquent))]
                day = rng.randint(1, 28)
                w.writerow([f"Y{k:09d}", f"A{i:08d}", f"2026-10-{day:02d}T10:{rng.randint(0, 59):02d}:00+08:00",
                            yuan(rng.randint(100_00, 5_000_00)), "CNY", "bank_transfer"])


if __name__ == "__main__":
    main()
