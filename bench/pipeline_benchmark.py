"""Pipeline benchmark (issue 8): a full run from scratch, then an incremental run after one more day.

    .venv/bin/python bench/pipeline_benchmark.py --contacts 100000 [--days 90] [--start 2026-08-01]
        [--seed 1] [--work /tmp/bench/100k] [--reuse-data] [--stages ingest,build,gate,sync] [--json FILE]

What it does, in this order:

1. `list-hygiene generate` writes DAYS days of exports for CONTACTS contacts into WORK/data (skipped
   with --reuse-data when WORK/data exists), and the next single day into WORK/next_day.
2. The DuckDB read floor: one DuckDB query per input file type (platform/entity) that reads every
   file once and counts its rows; the sum is the least time any pipeline needs just to parse the input.
3. Full run, from an empty warehouse: ingest → dbt build → gate (→ sync plan), the pipeline's own step
   functions (`list_hygiene.pipeline.*_step`, what the DAG and `list-hygiene run` call).
4. The next day's files are added to WORK/data (hard links) and the same stages run again on the same
   warehouse: ingest skips the files it already has (SHA-256); dbt models run as configured
   (incremental ones only process new rows).

Each stage runs in a fresh child process, so its wall time includes the process start-up the Airflow
task pays. Its peak memory is the larger of the child's own peak RSS (`ru_maxrss` from `os.wait4`) and
the peak of the RSS summed over the child and its descendants (ingest's worker processes), sampled from
/proc every 100 ms; the JSON also keeps `peak_rss_upper_mib`, the child's peak plus every worker's own
peak (a bound that assumes all peaks coincide). CPU seconds include the workers.
dbt writes its target/ and logs/ under WORK (DBT_TARGET_PATH / DBT_LOG_PATH), so concurrent dbt runs in
the repo are not disturbed; the per-model times are those the build step returns (run_results.json with
--skip-unit-tests, which runs dbt itself).

Not a timed test: it prints figures (and writes them as JSON with --json) for the README.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

STAGES = ("ingest", "build", "gate", "sync")


# --------------------------------------------------------------------------------------------------
# child side: one stage, in its own process
# --------------------------------------------------------------------------------------------------

def _child(stage: str, data: str, warehouse: str, out: str, run_id: str, full_refresh: bool) -> None:
    started = time.perf_counter()
    payload: dict[str, Any] = {}
    error = None
    try:
        if stage == "ingest":
            from list_hygiene.pipeline import ingest_step

            payload = ingest_step(Path(data), Path(warehouse))
            payload.pop("files", None)
        elif stage == "build" and os.environ.get("LH_BENCH_SKIP_UNIT_TESTS") == "1":
            from list_hygiene.dbt_runner import run_dbt

            args = ["build", "--exclude", "test_type:data", "test_type:unit"] + (["--full-refresh"] if full_refresh else [])
            res = run_dbt(args, Path(warehouse))
            payload = {"nodes": len(res.nodes), "note": "unit tests skipped (--skip-unit-tests)"}
        elif stage == "build":
            from list_hygiene.pipeline import transform_step

            payload = transform_step(Path(warehouse), full_refresh=full_refresh)
        elif stage == "gate":
            from list_hygiene.pipeline import gate_step

            payload = gate_step(Path(warehouse), run_id)
        elif stage == "sync":
            from list_hygiene.pipeline import sync_step

            payload = sync_step(Path(warehouse), run_id)
        elif stage == "floor":
            payload = _read_floor(Path(data), int(os.environ.get("LH_BENCH_FLOOR_REPEATS", "2")))
        else:
            raise ValueError(f"unknown stage {stage!r}")
    except Exception as exc:  # noqa: BLE001 - a failing stage is reported, the benchmark goes on
        error = f"{type(exc).__name__}: {str(exc)[:2000]}"
    Path(out).write_text(json.dumps({"payload": payload, "error": error,
                                     "inner_seconds": time.perf_counter() - started}, default=str))


def _read_floor(data: Path, repeats: int = 2) -> dict[str, Any]:
    """One DuckDB query per platform/entity (and file format) that reads every file of it once.

    Every column of every row is hashed, so DuckDB must parse all of it (a bare count(*) would let it
    skip the values); this is the least any loader needs to read the input. Each query runs `repeats`
    times and the fastest counts: the same query on the same cached file took 8.2, 6.0 and 3.7 s in a row
    (SES at 1 M contacts), and whole floors of one data set 46-77 s, so one run measured DuckDB's warm-up
    as much as its parsing. A floor is the least time, so the least of the runs is the floor.
    """
    import duckdb

    con = duckdb.connect()
    opts = {
        "csv": "read_csv(?, all_varchar = true, union_by_name = true, ignore_errors = true, strict_mode = false, "
               "null_padding = true)",
        "jsonl": "read_json(?, format = 'newline_delimited', union_by_name = true, ignore_errors = true, "
                 "maximum_object_size = 1073741824)",
        # a webhook batch (array: one row per event) or an API response object (one row per file)
        "json": "read_json(?, format = 'auto', union_by_name = true, maximum_object_size = 1073741824)",
    }
    kinds = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
    out: dict[str, Any] = {}
    # the floor is DuckDB's parsing, not the disk: read every file once first, so the timed reads find
    # them in the page cache whatever ran before (a cold cache once made the floor 148 s instead of 84 s)
    for f in sorted(p for p in data.rglob("*") if p.is_file()):
        with open(f, "rb") as fh:
            while fh.read(16 << 20):
                pass
    for pdir in sorted(p for p in data.iterdir() if p.is_dir()):
        for edir in sorted(e for e in pdir.iterdir() if e.is_dir()):
            files = sorted(f for f in edir.rglob("*") if f.is_file() and f.suffix.lower() in kinds)
            if not files:
                continue
            runs, cpu = [], []
            for _ in range(repeats):
                started, cpu_started = time.perf_counter(), time.process_time()  # this process: DuckDB's threads too
                rows = 0
                for kind in ("csv", "jsonl", "json"):
                    group = [str(f) for f in files if kinds[f.suffix.lower()] == kind]
                    if group:
                        rows += con.execute(f"select count(*), sum(hash(columns(*))) from {opts[kind]}",
                                            [group]).fetchone()[0]
                runs.append(round(time.perf_counter() - started, 3))
                cpu.append(round(time.process_time() - cpu_started, 3))
            out[f"{pdir.name}/{edir.name}"] = {
                "files": len(files), "rows": int(rows), "bytes": sum(f.stat().st_size for f in files),
                "seconds": min(runs), "runs": runs, "cpu_seconds": cpu[runs.index(min(runs))],
            }
    con.close()
    return out


# --------------------------------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------------------------------

def run_stage(stage: str, work: Path, data: Path, warehouse: Path, run_id: str, full_refresh: bool = False,
              tag: str = "") -> dict[str, Any]:
    """Run one stage in a fresh child; wall seconds, the child's peak RSS and what the step returned."""
    out = work / f".stage_{tag}_{stage}.json"
    out.unlink(missing_ok=True)
    env = os.environ | {
        "DBT_TARGET_PATH": str(work / "dbt_target"),
        "DBT_LOG_PATH": str(work / "dbt_logs"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "False",
    }
    cmd = [sys.executable, str(Path(__file__).resolve()), "_stage", stage, str(data), str(warehouse), str(out),
           run_id, "1" if full_refresh else "0"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(work / f".stage_{tag}_{stage}.log", "w"))
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    result = json.loads(out.read_text()) if out.exists() else {
        "payload": {}, "error": f"child exited {proc.returncode}; see {work / f'.stage_{tag}_{stage}.log'}"}
    # ingest's worker processes (ingest/workers.py) run beside the child: the sampled sum is what the machine
    # held at once; the child's peak plus each worker's own peak is an upper bound
    workers_mib = (result.get("payload") or {}).get("worker_peak_rss_mib") or 0
    own_mib = usage.ru_maxrss / 1024
    result.update(stage=stage, seconds=round(wall, 2), peak_rss_mib=round(max(own_mib, sampler.peak_kib / 1024), 1),
                  peak_rss_upper_mib=round(own_mib + workers_mib, 1), cpu_seconds=round(usage.ru_utime + usage.ru_stime, 1))
    if stage == "build":  # the step's own node times; a dbt run that wrote run_results.json (--skip-unit-tests)
        result["models"] = ((result.get("payload") or {}).pop("node_seconds", None)
                            or _model_times(work / "dbt_target" / "run_results.json"))
    return result


class TreeSampler(threading.Thread):
    """Peak of the RSS summed over a process and its descendants, read from /proc every `interval` s
    (Linux; elsewhere it stays 0 and the child's own ru_maxrss is reported)."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.peak_kib = max(self.peak_kib, self._tree_kib())

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _tree_kib(self) -> int:
        parent: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                # fields[1] is the parent pid; fields[21] the RSS in pages
                parent[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * _PAGE_KIB
            except (OSError, IndexError, ValueError):
                continue
        tree, grew = {self.pid}, True
        while grew:
            grew = False
            for pid, ppid in parent.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return sum(rss.get(pid, 0) for pid in tree)


_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def _model_times(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    res = json.loads(path.read_text())
    rows = [{"node": r["unique_id"].split(".", 2)[-1], "type": r["unique_id"].split(".")[0],
             "status": r["status"], "seconds": round(r.get("execution_time") or 0.0, 2)}
            for r in res.get("results", [])]
    return sorted(rows, key=lambda r: -r["seconds"])


def generate(out: Path, contacts: int, days: int, start: dt.date, seed: int, cadence: float) -> dict[str, Any]:
    """`list-hygiene generate` in a child process: wall time, peak RSS and the rows it reports."""
    exe = Path(sys.executable).with_name("list-hygiene")
    usage = subprocess.run([str(exe), "generate", "--help"], capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "400"}).stdout  # wide: rich shortens long option names
    where = ["--out", str(out)] if "--out" in usage else [str(out)]  # the option, or the older positional
    cmd = [str(exe), "generate", *where, "--contacts", str(contacts), "--days", str(days),
           "--start", start.isoformat(), "--seed", str(seed)]
    if "--newsletters-per-week" in usage:
        cmd += ["--newsletters-per-week", str(cadence)]
    elif cadence != 1:
        raise SystemExit("this tree's generator has no --newsletters-per-week; use --newsletters-per-week 1")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"generate failed ({proc.returncode}): {stderr[-2000:]}")
    try:
        counts = json.loads(stdout[stdout.index("{"):])
    except ValueError:
        counts = {}
    events = sum(v for k, v in counts.items() if k.endswith(("/events", "/email_activity")))
    return {"seconds": round(wall, 2), "rows": counts, "events": events,
            "events_per_second": round(events / wall) if wall else None,
            "bytes": sum(f.stat().st_size for f in out.rglob("*") if f.is_file())}


def add_files(src: Path, dst: Path) -> int:
    """Land the next day's exports beside the ones already there (hard links; renamed on a clash)."""
    n = 0
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{target.stem}.next{target.suffix}")
        try:
            os.link(f, target)
        except OSError:
            shutil.copy2(f, target)
        n += 1
    return n


def fmt_mib(v: float | None) -> str:
    return "-" if v is None else f"{v / 1024:.2f} GiB" if v >= 1024 else f"{v:.0f} MiB"


def print_report(rep: dict[str, Any]) -> None:
    p = print
    p(f"\n== list-hygiene pipeline benchmark: {rep['contacts']:,} contacts, {rep['days']} days "
      f"(+1 incremental day), seed {rep['seed']}, {rep.get('newsletters_per_week', 1)} newsletters/week, "
      f"{os.cpu_count()} cores")
    g = rep.get("generate")
    if g:
        p(f"generate: {g['events']:,} events in {g['seconds']} s = {g['events_per_second']:,} events/s, "
          f"{g['bytes'] / 2**20:,.0f} MiB on disk")
    floor = rep.get("floor") or {}
    full_ing = next((s for s in rep["full"] if s["stage"] == "ingest"), None)
    by_src = (full_ing or {}).get("payload", {}).get("by_source", {})
    # CPU seconds of ingest per source (workers reading and checking; the writer landing), where recorded
    spent = (full_ing or {}).get("payload", {}).get("seconds_by_source", {})
    p("\nrows per source (full run; ingest CPU s: workers reading and checking, the writer landing)")
    p(f"  {'source':28s} {'files':>6s} {'read floor rows':>16s} {'loaded':>12s} {'quarantined':>12s} {'floor s':>8s} "
      f"{'floor CPU s':>11s} {'read CPU s':>11s} {'land CPU s':>11s} {'× floor CPU':>11s}")
    for src in sorted(set(by_src) | set((floor.get("payload") or {}).keys())):
        f = (floor.get("payload") or {}).get(src, {})
        b = by_src.get(src, {})
        c = spent.get(src)
        floor_cpu = f.get("cpu_seconds")
        cost = f"{c['read']:>11.1f} {c['land']:>11.1f}" if c else f"{'':>11s} {'':>11s}"
        ratio = f"{(c['read'] + c['land']) / floor_cpu:>11.1f}" if c and floor_cpu else f"{'':>11s}"
        p(f"  {src:28s} {f.get('files', b.get('files', 0)):>6} {f.get('rows', 0):>16,} {b.get('rows', 0):>12,} "
          f"{b.get('quarantined', 0):>12,} {f.get('seconds', 0):>8.2f} "
          f"{f'{floor_cpu:.2f}' if floor_cpu is not None else '':>11} {cost} {ratio}")
    if floor:
        p(f"  DuckDB read floor (every input file read once): {floor['floor_seconds']:.1f} s "
          f"(child wall {floor['seconds']} s, peak {fmt_mib(floor['peak_rss_mib'])})")
    for label in ("full", "incremental"):
        stages = rep.get(label) or []
        if not stages:
            continue
        total = sum(s["seconds"] for s in stages)
        p(f"\n{label} run: {total:.1f} s")
        p(f"  {'stage':8s} {'wall s':>8s} {'cpu s':>8s} {'peak RSS':>10s}  notes")
        for s in stages:
            note = " ".join(s["error"].split())[:100] if s.get("error") else ""
            if s["stage"] == "ingest" and not s.get("error"):
                rows = s["payload"].get("rows_loaded", 0)
                unchanged = sum(v.get("unchanged", 0) for v in s["payload"].get("by_source", {}).values())
                note = f"{rows:,} rows loaded ({rows / s['seconds']:,.0f} rows/s)"
                if s["payload"].get("workers"):
                    note += (f", {s['payload']['workers']} worker processes (peaks added up: "
                             f"{fmt_mib(s.get('peak_rss_upper_mib') or 0)})")
                if unchanged:
                    note += f", {unchanged:,} snapshot rows unchanged"
            p(f"  {s['stage']:8s} {s['seconds']:>8.1f} {s['cpu_seconds']:>8.1f} {fmt_mib(s['peak_rss_mib']):>10s}  {note}")
        build = next((s for s in stages if s["stage"] == "build"), None)
        if build and build.get("models"):
            p("  slowest dbt nodes: " + ", ".join(f"{m['node']} {m['seconds']}s" for m in build["models"][:8]))
    if rep.get("full") and rep.get("incremental"):
        full_t = sum(s["seconds"] for s in rep["full"])
        inc_t = sum(s["seconds"] for s in rep["incremental"])
        full_cpu = sum(s["cpu_seconds"] for s in rep["full"])
        inc_cpu = sum(s["cpu_seconds"] for s in rep["incremental"])
        p(f"\nincremental / full = {inc_t / full_t:.0%} of wall time, {inc_cpu / full_cpu:.0%} of CPU time")
        if floor:
            core = sum(s["seconds"] for s in rep["full"] if s["stage"] in ("ingest", "build"))
            p(f"full run / read floor = {full_t / floor['floor_seconds']:.1f} x "
              f"(ingest + build only: {core / floor['floor_seconds']:.1f} x)")
        peak = max(s["peak_rss_mib"] for s in rep["full"])
        p(f"peak memory of any stage (full run): {fmt_mib(peak)}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_stage":
        _, _, stage, data, warehouse, out, run_id, full_refresh = sys.argv
        _child(stage, data, warehouse, out, run_id, full_refresh == "1")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--start", default="2026-08-01")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--newsletters-per-week", type=float, default=1.75,
                    help="generator send cadence; 1.75 gives the issue's ~30 events per contact per quarter "
                    "(1 M contacts = 30 M events), 1 the ~20 of the benchmarks before 27 Nov 2026")
    ap.add_argument("--work", type=Path, help="scratch folder (default /tmp/list-hygiene-bench/<contacts>)")
    ap.add_argument("--reuse-data", action="store_true", help="keep WORK/data and WORK/next_day if they exist")
    ap.add_argument("--stages", default="ingest,build,gate,sync", help="comma list of ingest,build,gate,sync")
    ap.add_argument("--keep-warehouse", action="store_true",
                    help="continue on WORK/warehouse as it is (e.g. --stages build,gate,sync after an ingest-only run)")
    ap.add_argument("--incremental-stages", default=None, help="stages of the incremental run (default: --stages)")
    ap.add_argument("--no-incremental", action="store_true", help="full run only")
    ap.add_argument("--no-floor", action="store_true", help="skip the DuckDB read floor")
    ap.add_argument("--skip-unit-tests", action="store_true",
                    help="build without dbt unit tests (they run on fixtures, not on the data; for a tree mid-edit)")
    ap.add_argument("--floor-only", action="store_true", help="only the DuckDB read floor (on WORK/data)")
    ap.add_argument("--floor-repeats", type=int, default=2,
                    help="runs of each floor query; the fastest counts (default 2)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--show", type=Path, metavar="JSON", help="print the report of an earlier --json file and exit")
    args = ap.parse_args()
    if args.show:
        print_report(json.loads(args.show.read_text()))
        return
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stages: {sorted(unknown)}")

    if args.skip_unit_tests:
        os.environ["LH_BENCH_SKIP_UNIT_TESTS"] = "1"
    os.environ["LH_BENCH_FLOOR_REPEATS"] = str(max(1, args.floor_repeats))
    work = (args.work or Path("/tmp/list-hygiene-bench") / str(args.contacts)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data, next_day, warehouse = work / "data", work / "next_day", work / "warehouse" / "bench.duckdb"
    start = dt.date.fromisoformat(args.start)
    rep: dict[str, Any] = {"contacts": args.contacts, "days": args.days, "start": args.start, "seed": args.seed,
                           "newsletters_per_week": args.newsletters_per_week,
                           "work": str(work), "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

    if not (args.reuse_data and data.is_dir()):
        shutil.rmtree(data, ignore_errors=True)
        print(f"generating {args.contacts:,} contacts x {args.days} days into {data} ...", flush=True)
        rep["generate"] = generate(data, args.contacts, args.days, start, args.seed, args.newsletters_per_week)
        print(f"  {rep['generate']['events']:,} events in {rep['generate']['seconds']} s", flush=True)
    if not args.no_incremental and not (args.reuse_data and next_day.is_dir()):
        shutil.rmtree(next_day, ignore_errors=True)
        rep["generate_next_day"] = generate(next_day, args.contacts, 1, start + dt.timedelta(days=args.days), args.seed,
                                             args.newsletters_per_week)

    # a previous run's next-day files must not be in the full run's input
    for f in list(data.rglob("*.next*")):
        f.unlink()
    if next_day.is_dir():
        names = {f.relative_to(next_day) for f in next_day.rglob("*") if f.is_file()}
        for rel in names:
            if (data / rel).exists() and (data / rel).stat().st_ino == (next_day / rel).stat().st_ino:
                (data / rel).unlink()

    if not args.no_floor:
        print("DuckDB read floor ...", flush=True)
        fl = run_stage("floor", work, data, warehouse, "floor", tag="full")
        fl["floor_seconds"] = round(sum(v["seconds"] for v in fl["payload"].values()), 2)
        rep["floor"] = fl
        if args.floor_only:
            print(json.dumps(fl, indent=2, default=str))
            return

    if not args.keep_warehouse:
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        shutil.rmtree(work / "dbt_target", ignore_errors=True)
    for label in ("full", "incremental"):
        if label == "incremental" and args.incremental_stages:
            stages = [s for s in args.incremental_stages.split(",") if s]
        if label == "incremental":
            if args.no_incremental:
                break
            rep["next_day_files"] = add_files(next_day, data)
        run_id = f"bench-{label}-{int(time.time())}"
        rep[label] = []
        for stage in stages:
            print(f"{label}: {stage} ...", flush=True)
            res = run_stage(stage, work, data, warehouse, run_id, tag=label)
            rep[label].append(res)
            print(f"  {res['seconds']} s, peak {fmt_mib(res['peak_rss_mib'])}"
                  + (f"  ERROR {res['error'][:300]}" if res.get("error") else ""), flush=True)
            if stage == "ingest" and res.get("error"):
                break
    print_report(rep)
    if args.json:
        args.json.write_text(json.dumps(rep, indent=2, default=str))
        print(f"\nfigures: {args.json}")


if __name__ == "__main__":
    main()
