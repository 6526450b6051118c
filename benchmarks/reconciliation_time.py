"""How long one supervised account's business day takes to reconcile on DynamoDB Local, and
what it costs in AWS calls, at a given number of movements.

    .venv/bin/python -m benchmarks.reconciliation_time                    # 10,000 movements
    .venv/bin/python -m benchmarks.reconciliation_time --movements 1000

Parents pay the sandbox bank `--movements` times into one institution's supervised account
during one day, and the platform's bank book is loaded with the entries it books for those
payments (batch-written as the booking transactions write them: the time of booking them is
not what is measured). The next morning the real reconciliation of that account and day runs:
the MT940 statement written and read back, the day's bank book queried, the statement's keys
looked up. It prints the time, the calls by kind and the result, which must be `reconciled`.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta

from benchmarks.schedule_throughput import Calls, batch_write, province
from chalicelib import bootstrap
from chalicelib.adapters.dynamo import records
from chalicelib.domain.calendar import SHANGHAI, business_date
from chalicelib.domain.escrow.bank_book import EntryKind, credited
from chalicelib.service.supervision import reconciliations

PAYER = "PAYER-bench-"
FEN = 15_000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reconciliation_time")
    parser.add_argument("--movements", type=int, default=10_000,
                        help="payments into the account during the day (default 10,000)")
    args = parser.parse_args()
    with province() as (p, shop):
        ctx = bootstrap.context()
        day = business_date(p.clock.now())
        began = time.monotonic()
        entries: list[dict[str, object]] = []
        for n in range(args.movements):
            payer = f"{PAYER}{n % 500}"
            txn = p.bank.pay(payer, shop.supervised_account, f"PAY-BENCH-{n}", FEN)
            entries.append(records.bank_entry(credited(
                key=txn, account=shop.supervised_account, payer=payer, amount_fen=FEN,
                at=p.clock.now(), kind=EntryKind.PAYMENT, subject_id=f"ord_bench{n}",
                institution_id=shop.institution_id)))
        batch_write(p.dynamodb, [(p.plane.platform_table, item) for item in entries])
        print(f"{args.movements:,} payments made and booked in {time.monotonic() - began:.1f} s",
              flush=True)
        p.clock.set(datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI)
                    + timedelta(hours=2))
        institution = ctx.store.institution(shop.institution_id)
        assert institution is not None
        reconciliations.reconcile_account(ctx, institution, day - timedelta(days=1))
        calls = Calls(p.dynamodb)
        began = time.monotonic()
        result = reconciliations.reconcile_account(ctx, institution, day)
        seconds = time.monotonic() - began
        print(f"reconciled {result.account} for {day}: {result.status}, {result.matched:,} "
              f"matched, bank {result.bank_closing_fen:,} fen = ledger "
              f"{result.ledger_closing_fen:,} fen")
        print(f"{seconds:.2f} s for {args.movements:,} movements "
              f"({args.movements / seconds:,.0f} movements per second)")
        print("AWS calls: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.counts.items())))
        assert result.status == "reconciled" and result.matched == args.movements


if __name__ == "__main__":
    main()
