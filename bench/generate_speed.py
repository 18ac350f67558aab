"""How fast does the generator write events? (issue 8 asks for >= 1 M events/s at scale)

    .venv/bin/python bench/generate_speed.py [--contacts 100000] [--days 30] [--seed 7] [--runs 1]
                                             [--workers N] [--stages] [--newsletters-per-week 1.75]

Prints rows per platform/entity, the wall time of a whole `generate` call (after a small warm-up run that
pays for imports and DuckDB's first query) and events written per second. "Events" are the rows of every
ESP's event exports (`*/events`, `mailchimp/email_activity`), as bench/pipeline_benchmark.py counts them. The CPU
time of all threads comes with its user and system parts and the page faults: the kernel's share (page faults on
fresh memory; before output_files.py, copying every byte into the page cache) varies with the machine's memory state
more than with the code.

`--workers N` sets the writer threads (default: one per core, at most 4; 1 = everything in one thread, one step
after the other). `--stages` runs with one thread and prints each step's wall and CPU time, to see where the time goes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import list_hygiene.generate as gen
from list_hygiene.generate import generate

STEPS = ("build_population", "build_sends", "simulate_platforms", "summarize", "write_more", "write_sendgrid", "write_ses",
         "write_mailchimp_reports", "write_hubspot", "write_hubspot_updates", "write_mailchimp_members",
         "write_mailbox")


def _timed(name: str, fn: Callable, times: dict[str, tuple[float, float]]) -> Callable:
    def run(*args: object, **kwargs: object) -> object:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            times[name] = (time.perf_counter() - t0, time.process_time() - c0)
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--start", default="2026-08-01")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=gen.WORKERS)
    ap.add_argument("--newsletters-per-week", type=float, default=1.75,
                    help="send cadence (pipeline_benchmark.py's default: ~30 events per contact per quarter)")
    ap.add_argument("--stages", action="store_true", help="one thread; print each step's wall and CPU time")
    args = ap.parse_args()
    gen.WORKERS = 1 if args.stages else args.workers
    times: dict[str, tuple[float, float]] = {}
    if args.stages:
        for name in STEPS:
            setattr(gen, name, _timed(name, getattr(gen, name), times))
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports, DuckDB's first query
        generate(Path(tmp), contacts=200, days=7)
    best = cpu_best = None
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
            counts = generate(Path(tmp), contacts=args.contacts, days=args.days,
                              start=dt.date.fromisoformat(args.start), seed=args.seed,
                              newsletters_per_week=args.newsletters_per_week)
            secs, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        # user and system CPU apart: the kernel's share (page cache copies of the files, page faults on fresh memory)
        user, system, faults = r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt
        best = secs if best is None else min(best, secs)
        if cpu_best is None or user + system < cpu_best[0]:
            cpu_best = (user + system, user, system, faults)
    # every ESP's event exports, as pipeline_benchmark.py counts them (until 28 Nov only SendGrid, SES and Mailchimp)
    events = sum(v for k, v in counts.items() if k.endswith(("/events", "/email_activity")))
    for k, v in sorted(counts.items()):
        print(f"{k:28s} {v:>12,d}")
    if times:
        print(f"{'step (last run)':28s} {'wall s':>8s} {'cpu s':>8s}")
        for name in STEPS:
            wall, cpu = times.get(name, (0.0, 0.0))
            print(f"{name:28s} {wall:8.2f} {cpu:8.2f}")
    print(f"contacts={args.contacts:,} days={args.days} events={events:,} bytes={size:,} writer threads={gen.WORKERS}")
    print(f"wall {best:.2f} s  ->  {events / best:,.0f} events/s (all rows: {sum(counts.values()) / best:,.0f}/s)")
    # CPU seconds of all threads: a fairer figure on a shared machine
    cpu, user, system, faults = cpu_best
    print(f"cpu  {cpu:.2f} s  ->  {events / cpu:,.0f} events per CPU-second (user {user:.2f} s, system {system:.2f} s, "
          f"{faults:,} page faults)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
