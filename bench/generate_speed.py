"""How fast does the generator write events? (issue 8 asks for >= 1 M events/s at scale)

    .venv/bin/python bench/generate_speed.py [--contacts 100000] [--days 30] [--seed 7]

Prints rows per platform/entity, the wall time of a whole `generate` call (after a small warm-up run that
pays for imports and DuckDB's first query) and events written per second. "Events" are the
event-stream rows (SendGrid events + SES notifications + Mailchimp email-activity rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from list_hygiene.generate import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--start", default="2026-08-01")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports, DuckDB's first query
        generate(Path(tmp), contacts=200, days=7)
    best = cpu_best = None
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0, c0 = time.perf_counter(), time.process_time()
            counts = generate(Path(tmp), contacts=args.contacts, days=args.days,
                              start=dt.date.fromisoformat(args.start), seed=args.seed)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        best = secs if best is None else min(best, secs)
        cpu_best = cpu if cpu_best is None else min(cpu_best, cpu)
    events = counts["sendgrid/events"] + counts["ses/events"] + counts["mailchimp/email_activity"]
    for k, v in sorted(counts.items()):
        print(f"{k:28s} {v:>12,d}")
    print(f"contacts={args.contacts:,} days={args.days} events={events:,} bytes={size:,}")
    print(f"wall {best:.2f} s  ->  {events / best:,.0f} events/s (all rows: {sum(counts.values()) / best:,.0f}/s)")
    # CPU seconds of all threads: a fairer figure on a shared machine
    print(f"cpu  {cpu_best:.2f} s  ->  {events / cpu_best:,.0f} events per CPU-second")


if __name__ == "__main__":
    main()
