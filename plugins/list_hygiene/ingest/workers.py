"""Ingest on several processes: workers read and check files, this process alone writes the warehouse.

Reading, checking and normalising a file is CPU work in Python (and DuckDB) that one process cannot
spread over cores, while a DuckDB file takes one writer. So each worker process runs the same code as
the one-process path (`loader.read_file`) against its own in-memory DuckDB, and moves the rows it
produced to Parquet parts in a scratch folder (every `SPILL_ROWS` rows, so its memory stays bounded).
This process then lands each file from its parts in a transaction with its manifest row (consecutive
files of a source share one until its rows fill DuckDB's row groups well, see `whole`;
`loader.finish_file`: snapshot rows already landed are dropped there, where the history is).

Files are handed out largest first, so a big file does not start last and leave one core idle. Two
writer threads land them, each a whole source at a time, each source's files in discovery order, so the
warehouse ends up as the one-process path leaves it (same rows, same manifest, same choice of which
file's copy of an unchanged snapshot row stays).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import resource
import shutil
import tempfile
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from .. import paths
from . import fast_path, json_stream, loader
from .specs import SPECS

log = logging.getLogger(__name__)

# below this many bytes of new files, starting workers costs more than it saves
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
SPILL_ROWS = 500_000  # a worker moves its rows to a Parquet part once it holds this many
SPAN_BYTES = 128 * 1024 * 1024  # a bigger JSONL file is read in spans of about this size, side by side
# threads that land the workers' parts, each with its own sources and connection (see land_all)
WRITER_LANES = 2
# small JSON array files of a source are read together, this many bytes at most (see `bundles`)
BUNDLE_BYTES = 64 * 1024 * 1024
BUNDLE_FILE_BYTES = 8 * 1024 * 1024  # a bigger file pays its own set-up
# rows in a DuckDB row group: a lane commits a source's files in transactions shaped by it (see `whole`)
ROW_GROUP_ROWS = 122_880


def whole(rows: int) -> bool:
    """Whether a transaction that appended `rows` rows to a table can commit: at least a row group's worth, and
    its last row group empty or more than half full.

    A lane lands consecutive files of a source in one transaction until this holds. Fewer rows than a row group
    are written through the WAL and then again by the checkpoint (and a commit per 5000-event webhook body cost
    ~9 ms); more are written compressed at commit, their last row group partial. DuckDB's checkpoint merges runs
    of partial row groups that fit in fewer (max_vacuum_tasks), rewriting the full ones between them: with
    commits of a row group and a few thousand rows, the 1 M-contact ingest ended in a 12 s checkpoint that
    rewrote 0.7 GB. A last row group more than half full has no partner to merge with."""
    rest = rows % ROW_GROUP_ROWS
    return rows >= ROW_GROUP_ROWS and (rest == 0 or rest > ROW_GROUP_ROWS // 2)


def worker_count() -> int:
    """LIST_HYGIENE_INGEST_WORKERS, else one per core (at most 4: one writer has to keep up)."""
    value = os.environ.get("LIST_HYGIENE_INGEST_WORKERS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"LIST_HYGIENE_INGEST_WORKERS must be a whole number, not {value!r}") from None
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass
class Settings:
    """The module switches a worker must share with this process (tests change them)."""

    fast_path: bool
    min_bytes: int
    chunk_bytes: int
    batch_rows: int
    spill_rows: int
    stream: bool
    stream_bytes: int

    @classmethod
    def current(cls) -> Settings:
        return cls(loader.FAST_PATH, fast_path.MIN_BYTES, fast_path.CHUNK_BYTES, loader.BATCH_ROWS, SPILL_ROWS,
                   loader.STREAM, json_stream.STREAM_BYTES)

    def apply(self) -> None:
        loader.FAST_PATH, fast_path.MIN_BYTES, fast_path.CHUNK_BYTES = self.fast_path, self.min_bytes, self.chunk_bytes
        loader.BATCH_ROWS = self.batch_rows
        loader.STREAM, json_stream.STREAM_BYTES = self.stream, self.stream_bytes


@dataclass
class Parts:
    """A file read by a worker: what `read_file` returned and where its rows are."""

    landed: loader.Landed
    rows: list[str] = field(default_factory=list)  # Parquet parts of raw.<table>, in order
    quarantine: list[str] = field(default_factory=list)
    worker: tuple[int, int] = (0, 0)  # the worker's pid and its peak RSS so far (KiB)


# ------------------------------------------------------------------ worker side
_con: duckdb.DuckDBPyConnection | None = None


def _worker_con(threads: int, scratch: str) -> duckdb.DuckDBPyConnection:
    """The worker's in-memory DuckDB. What it spills goes under this run's scratch folder (removed at the
    end of the run): an in-memory database would otherwise spill into `.tmp` in the working directory (a
    repository, an Airflow worker's home) and leave it there."""
    global _con
    spill = os.path.join(scratch, f"duckdb-spill-{os.getpid()}")
    if _con is None:
        config = paths.duckdb_config() | {"threads": threads, "temp_directory": spill}
        config["memory_limit"] = os.environ.get("LIST_HYGIENE_INGEST_WORKER_MEMORY", "1GB")
        _con = duckdb.connect(":memory:", config=config)
        _con.execute("set enable_progress_bar = false")
        loader.ensure_raw_schema(_con)
    elif _con.execute("select current_setting('temp_directory')").fetchone()[0] != spill:
        _con.execute(f"set temp_directory = '{spill}'")  # a later run in the same process (reading here)
    return _con


def read_in_worker(job: loader.Job, loaded_at: datetime, scratch: str, settings: Settings, threads: int) -> Parts:
    """Runs in a worker: `read_file` into the in-memory raw tables, then everything out to Parquet parts."""
    settings.apply()
    started = time.process_time()  # this process's CPU, every thread (DuckDB's too)
    con = _worker_con(threads, scratch)
    table = SPECS[(job.platform, job.entity)].table
    parts = Parts(loader.Landed("loaded", None, 0, 0, []))
    start = job.span[0] if job.span else 0
    moved = 0

    def part_path() -> str:
        return os.path.join(scratch, f"{job.file_id}-{start}-{len(parts.rows):05d}.parquet")

    def move_rows() -> None:
        part = part_path()
        con.execute(f"copy (select * from raw.{table}) to '{part}' (format parquet)")
        con.execute(f"delete from raw.{table}")
        parts.rows.append(part)

    def write(sink: loader._Sink, query: str, params: list) -> int:
        """The fast path's rows go straight to a part of their own, not through raw (one table write less)."""
        nonlocal moved
        if sink.loaded > moved:  # rows the Python checks settled wait in raw: they go first, as they came
            move_rows()
        part = part_path()
        (n,) = con.execute(f"copy ({query}) to '{part}' (format parquet)", params).fetchone()
        if n:
            parts.rows.append(part)
        else:
            os.remove(part)
        moved = sink.loaded + n
        return n

    def spill(sink: loader._Sink) -> None:
        nonlocal moved
        if sink.loaded - moved >= settings.spill_rows:
            move_rows()
            moved = sink.loaded

    def forget() -> None:  # the file starts again: its parts so far are void
        nonlocal moved
        for part in parts.rows:
            os.remove(part)
        parts.rows.clear()
        moved = 0

    con.begin()
    try:
        parts.landed = loader.read_file(con, job, loaded_at, spill, forget, write)
        if parts.landed.loaded > moved:
            move_rows()
        if con.execute("select count(*) from raw.quarantine").fetchone()[0]:
            part = os.path.join(scratch, f"{job.file_id}-{start}-quarantine.parquet")
            con.execute(f"copy raw.quarantine to '{part}' (format parquet)")
            parts.quarantine.append(part)
    finally:
        con.rollback()  # the rows live on in the parts
    parts.worker = (os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    parts.landed.cpu_seconds = time.process_time() - started  # a worker reads one unit at a time: all of it is this unit's
    return parts


def read_bundle_in_worker(jobs: list[loader.Job], loaded_at: datetime, scratch: str, settings: Settings,
                          threads: int) -> list[Parts]:
    """Runs in a worker: small JSON array files of one source in one go (`fast_path.load_json_bundle`), each
    file's rows to Parquet parts of their own; or, when SQL alone cannot settle them, one by one."""
    settings.apply()
    started = time.process_time()
    con = _worker_con(threads, scratch)
    spec = SPECS[(jobs[0].platform, jobs[0].entity)]
    out = os.path.join(scratch, f"bundle-{jobs[0].file_id}")
    con.begin()
    try:
        got = fast_path.load_json_bundle(con, spec, [str(j.path) for j in jobs], [(j.file_id, j.rel) for j in jobs],
                                         loader.latest_plausible(loaded_at), loaded_at, out)
    finally:
        con.rollback()  # the rows live on in the parts
    if got is None:
        shutil.rmtree(out, ignore_errors=True)
        return [read_in_worker(job, loaded_at, scratch, settings, threads) for job in jobs]
    spent, size = time.process_time() - started, sum(job.size for job in jobs)
    worker = (os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    read: list[Parts] = []
    for job, (rows, keys) in zip(jobs, got, strict=True):
        folder = Path(out) / f"_file_id={job.file_id}"
        extra = sorted(k for k in keys if k not in spec.known_extra)
        # the bundle's CPU shared out by bytes
        landed = loader.Landed("loaded", None, rows, 0, extra, 0, spent * job.size / max(size, 1))
        log.info("ingest %s: DuckDB checks, 0 unit(s) settled by Python (read with %d other files)", job.rel,
                 len(jobs) - 1)
        read.append(Parts(landed, sorted(str(f) for f in folder.glob("*.parquet")), [], worker))
    return read


def bundled(job: loader.Job) -> bool:
    """Whether a file may be read with others of its source (`read_bundle_in_worker`): a small JSON file that
    DuckDB reads itself (`fast_path.reads_json`), whose rows take nothing from its path."""
    spec = SPECS[(job.platform, job.entity)]
    return (loader.FAST_PATH and job.span is None and spec.from_path is None and job.size <= BUNDLE_FILE_BYTES
            and not loader.is_jsonl(job.path) and fast_path.reads_json(spec, job.path))


def bundles(jobs: list[loader.Job]) -> list[list[loader.Job]]:
    """Runs of consecutive `bundled` files of one source, up to BUNDLE_BYTES each, of two files or more."""
    runs: list[list[loader.Job]] = []
    run: list[loader.Job] = []
    size = 0  # of `run` (summing it again for each file would be quadratic: a run may hold 10^5 tiny bodies)
    for job in jobs:
        joins = bundled(job)
        if run and (not joins or (run[0].platform, run[0].entity) != (job.platform, job.entity)
                    or size + job.size > BUNDLE_BYTES):
            runs.append(run)
            run, size = [], 0
        if joins:
            run.append(job)
            size += job.size
    runs.append(run)
    return [run for run in runs if len(run) > 1]


class _Pick:
    """One file's Parts from a bundle's future (the lanes wait for files)."""

    def __init__(self, future: Future[list[Parts]], index: int):
        self.future, self.index = future, index

    def result(self, timeout: float | None = None) -> Parts:
        return self.future.result(timeout)[self.index]

    def cancel(self) -> bool:
        return self.future.cancel()


# ------------------------------------------------------------------ writer side
_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def _executor(n: int) -> ProcessPoolExecutor:
    """One pool per process, kept for the next ingest (workers keep their imports and DuckDB)."""
    global _pool, _pool_size
    if _pool is None or _pool_size != n:
        _drop_pool()
        # spawn: this process holds DuckDB's threads, which a fork must not copy
        _pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
        _pool_size = n
    return _pool


@atexit.register
def _drop_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(cancel_futures=True)
        _pool = None


def spans(path: Path, size: int, span_bytes: int, newlines: list[int] | None = None) -> list[loader.Span]:
    """A JSONL file cut at line ends into spans of about `span_bytes`, each with the number of its first line.

    `newlines`: the file's newline marks from hashing it (loader.sha256_of): a span's first line is then
    counted from the nearest mark, not from the start of the file. Counting them here, one core read every
    big JSONL file again while the workers waited for their first span (1 M contacts: 5-7 s, 11 GB)."""
    cuts = [0]
    with open(path, "rb") as fh:
        while cuts[-1] + span_bytes < size:
            fh.seek(cuts[-1] + span_bytes)
            fh.readline()  # on to the start of the next line
            if fh.tell() >= size:
                break
            cuts.append(fh.tell())
        out, line = [], 1
        for a, b in zip(cuts, [*cuts[1:], size], strict=True):
            if newlines is not None and a:
                mark = min(a // loader.HASH_CHUNK, len(newlines) - 1)
                fh.seek(mark * loader.HASH_CHUNK)
                line = 1 + newlines[mark] + _count_newlines(fh, a - mark * loader.HASH_CHUNK)
            out.append((a, b, line))
            if newlines is None and b < size:
                fh.seek(a)
                line += _count_newlines(fh, b - a)
    return out


def _count_newlines(fh, n: int) -> int:
    count = 0
    while n > 0:
        block = fh.read(min(n, 16 * 1024 * 1024))
        if not block:
            break
        count += block.count(b"\n")
        n -= len(block)
    return count


def split(job: loader.Job) -> list[loader.Job]:
    """The units the workers read: a big JSONL file in spans, any other file whole."""
    if not loader.is_jsonl(job.path) or job.size < 2 * SPAN_BYTES:
        return [replace(job, newlines=None)]
    return [replace(job, span=span, newlines=None) for span in spans(job.path, job.size, SPAN_BYTES, job.newlines)]


def merge(pieces: list[Parts]) -> Parts:
    """One file's Parts from its spans' (in order). A file rejected as a whole (its path names no list,
    say) is rejected by every span alike: the first span's rejection stands for the file."""
    failed = next((p for p in pieces if p.landed.status == "failed"), None)
    if failed is not None:
        return failed
    landed = loader.Landed(
        "loaded", None, sum(p.landed.loaded for p in pieces), sum(p.landed.quarantined for p in pieces),
        sorted({c for p in pieces for c in p.landed.extra_columns}), sum(p.landed.python_docs for p in pieces),
        sum(p.landed.cpu_seconds for p in pieces))
    return Parts(landed, [r for p in pieces for r in p.rows], [q for p in pieces for q in p.quarantine])


def land_parts(con: duckdb.DuckDBPyConnection, job: loader.Job, parts: Parts, loaded_at: datetime) -> loader.FileResult:
    """Inside the caller's open transaction (which it commits, maybe after more files of the same source): the
    worker's rows and quarantine rows, then `finish_file` (snapshots, manifest row)."""
    seen = loader._seen(con, job.platform, job.entity, job.digest)
    if seen:  # the same bytes under another name earlier in this run
        return loader.seen_result(job.rel, job.platform, job.entity, seen)
    table = SPECS[(job.platform, job.entity)].table
    # a bundle's parts sit in `_file_id=<id>` folders: their own column is the value, never a type read from a path
    if parts.rows:
        con.execute(f"insert into raw.{table} by name select * from read_parquet(?, hive_partitioning = false)",
                    [parts.rows])
    if parts.quarantine:
        con.execute("insert into raw.quarantine by name select * from read_parquet(?, hive_partitioning = false)",
                    [parts.quarantine])
    return loader.finish_file(con, job, parts.landed, loaded_at, commit=False)


def _unit_bytes(unit: loader.Job | list[loader.Job]) -> int:
    if isinstance(unit, list):
        return sum(job.size for job in unit)
    return unit.span[1] - unit.span[0] if unit.span else unit.size


def by_source(planned: list[loader.Job | loader.FileResult]) -> list[list[int]]:
    """The positions of `planned` grouped by source (platform, entity), each group in discovery order; the
    sources with the most bytes to read first (the writer lanes take them in this order)."""
    sources: dict[tuple[str, str], list[int]] = {}
    for i, item in enumerate(planned):
        sources.setdefault((item.platform, item.entity), []).append(i)

    def size(positions: list[int]) -> int:
        return sum(planned[i].size for i in positions if isinstance(planned[i], loader.Job))

    return sorted(sources.values(), key=lambda positions: -size(positions))


class _Group:
    """A writer lane's open transaction over several files of one source, and the rows landed in it."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con, self.rows, self.active = con, 0, False

    def open(self) -> None:
        if not self.active:
            self.con.begin()
            self.active, self.rows = True, 0

    def close(self) -> None:
        if self.active:
            self.con.commit()
            self.active = False


class _Stopped(Exception):
    """Another writer lane failed: this one stops at its next file."""


def land_all(con: duckdb.DuckDBPyConnection, planned: list[loader.Job | loader.FileResult], loaded_at: datetime,
             workers: int, peaks: dict[int, int]) -> list[loader.FileResult]:
    """Read the jobs on `workers` processes (largest first) and land them here, each source's files in their
    given order; returns the results in that order. `peaks` gets each worker's peak RSS (KiB) by pid.

    The landing runs in `WRITER_LANES` threads, each on its own connection to this database. A lane takes a
    whole source (`by_source`, the most bytes first) and lands its files one after the other, as one thread
    would, so which file's copy of an unchanged snapshot row stays, or which of two files with the same bytes
    is skipped, does not change; then it takes the next source left. Most landing happens after the last
    unit is read (a source waits for its first file, and the largest units go first): with one lane, one
    core sat idle while this process landed alone (at 1 M contacts, 80 s). Handing the units out in the
    order the lanes land them instead took the 12 s on one core at the end away (the smallest files, 1,457
    SendGrid webhook bodies, were read last and landed one by one), but this process then peaked at 3.4-3.5
    GB instead of 2.75 (1 M contacts), the stage with its workers over 4 GiB: not done."""
    jobs = [j for j in planned if isinstance(j, loader.Job)]
    settings = Settings.current()
    threads = max(1, (os.cpu_count() or 1) // workers)
    scratch = tempfile.mkdtemp(prefix="list-hygiene-ingest-")
    pool = _executor(workers)
    # While the workers have the cores, the writer lands on one DuckDB thread: a second one only contended
    # with them (SendGrid at 1 M: this process 64 -> 39 CPU s, the stage 100 -> 90 s wall)
    (writer_threads,) = con.execute("select current_setting('threads')").fetchone()
    con.execute("set threads = 1")
    together = bundles(jobs)
    in_runs = {job.file_id for run in together for job in run}
    pieces_of = {job.file_id: split(job) for job in jobs if job.file_id not in in_runs}
    futures: dict[str, list[Future[Parts] | _Pick]] = {fid: [None] * len(units) for fid, units in pieces_of.items()}
    order = sorted([(fid, i, unit) for fid, units in pieces_of.items() for i, unit in enumerate(units)]
                   + [(None, 0, run) for run in together], key=lambda t: -_unit_bytes(t[2]))
    results: list[loader.FileResult | None] = [None] * len(planned)
    failed, broken, lock = threading.Event(), threading.Event(), threading.Lock()
    errors: list[BaseException] = []

    def wait(future: Future[Parts] | _Pick) -> Parts:
        while True:
            if failed.is_set():
                raise _Stopped
            try:
                return future.result(timeout=0.5)
            except TimeoutError:
                continue

    def land(cur: duckdb.DuckDBPyConnection, item: loader.Job | loader.FileResult, group: _Group) -> loader.FileResult:
        if isinstance(item, loader.FileResult):  # nothing to read or land
            return item
        try:
            pieces = None if broken.is_set() else [wait(f) for f in futures[item.file_id]]
        except (BrokenProcessPool, CancelledError) as exc:
            if failed.is_set():  # cancelled because another lane failed
                raise _Stopped from exc
            with lock:
                if not broken.is_set():
                    log.warning("ingest: the worker processes stopped (%s); the remaining files are read here. "
                                "A script that runs ingest must guard its top level with "
                                "`if __name__ == '__main__':`, or set LIST_HYGIENE_INGEST_WORKERS=1", exc)
                    broken.set()
                    _drop_pool()
            pieces = None
        if pieces is None:  # read here, in a transaction of its own
            group.close()
            return loader.land_here(cur, item, loaded_at)
        with lock:
            for p in pieces:
                peaks[p.worker[0]] = max(peaks.get(p.worker[0], 0), p.worker[1])
        started = time.thread_time()  # the lane's DuckDB runs on this thread (threads = 1, above)
        group.open()
        result = land_parts(cur, item, merge(pieces), loaded_at)
        result.land_cpu_seconds = time.thread_time() - started
        group.rows += result.rows_loaded
        for part in (f for p in pieces for f in p.rows + p.quarantine):
            os.remove(part)
        return result

    sources = by_source(planned)

    def lane() -> None:
        try:
            with con.cursor() as cur:
                group = _Group(cur)
                while True:
                    with lock:
                        if not sources:
                            return
                        positions = sources.pop(0)
                    landed = None  # the last file landed in the open transaction: its commit is counted to it
                    for k, i in enumerate(positions):
                        results[i] = land(cur, planned[i], group)
                        if not group.active:  # a file read here committed what was open
                            landed = None
                        elif results[i].land_cpu_seconds:
                            landed = results[i]
                        # the transaction stays open while the next file is read, until its rows are `whole`
                        if whole(group.rows) or k + 1 == len(positions):
                            started = time.thread_time()
                            group.close()
                            if landed is not None:
                                landed.land_cpu_seconds += time.thread_time() - started
                                landed = None
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)
            failed.set()

    writers: list[threading.Thread] = []
    try:
        for fid, i, unit in order:
            if isinstance(unit, list):  # a bundle: each of its files waits for the one future
                future = pool.submit(read_bundle_in_worker, unit, loaded_at, scratch, settings, threads)
                for k, job in enumerate(unit):
                    futures[job.file_id] = [_Pick(future, k)]
            else:
                futures[fid][i] = pool.submit(read_in_worker, unit, loaded_at, scratch, settings, threads)
        writers = [threading.Thread(target=lane, name=f"lh-land-{k}")
                   for k in range(max(1, min(WRITER_LANES, len(sources))))]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        if errors:
            raise errors[0]
        return [r for r in results if r is not None]
    except BaseException:
        failed.set()
        for f in (f for fs in futures.values() for f in fs if f is not None):
            f.cancel()
        for t in writers:  # each stops at its next file
            t.join()
        raise
    finally:
        con.execute(f"set threads = {int(writer_threads)}")
        shutil.rmtree(scratch, ignore_errors=True)


def use_workers(planned: list[Any]) -> int:
    """How many worker processes this run should use (0: read everything in this process)."""
    jobs = [j for j in planned if isinstance(j, loader.Job)]
    n = worker_count()
    if n < 2 or len(jobs) < 2 or sum(j.size for j in jobs) < PARALLEL_MIN_BYTES:
        return 0
    return n
