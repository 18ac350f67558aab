"""Ingest on worker processes (workers.py) lands exactly what one process lands.

conftest.py runs every ingest test with workers too; here both ways load the same folders side by side
(on each of conftest's paths) and their raw tables, quarantine and manifest are compared row for row.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from test_fast_path import differences, load_pair

from list_hygiene.ingest import ingest, loader, workers
from list_hygiene.ingest.loader import IngestReport

LOADED_AT = datetime(2026, 11, 25, 12)


def load_both(data: Path, tmp_path: Path, monkeypatch) -> tuple[duckdb.DuckDBPyConnection, IngestReport]:
    """`f`: read by two worker processes, `p`: read in this process; returns the workers' report."""
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    return load_pair(data, tmp_path,
                     lambda name: monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2" if name == "f" else "1"))


def test_bundled_samples_land_identically_on_workers(samples_dir, tmp_path, monkeypatch):
    """Small spill parts (many per file) and JSONL files read in many spans must come back in order and whole."""
    monkeypatch.setattr(workers, "SPILL_ROWS", 997)
    monkeypatch.setattr(workers, "SPAN_BYTES", 256 * 1024)
    assert any(len(workers.split(loader.Job(f, "", "", "", "", "", f.stat().st_size))) > 3
               for f in samples_dir.rglob("*.jsonl"))
    con, report = load_both(samples_dir, tmp_path, monkeypatch)
    assert report.to_dict()["workers"] >= 1  # the workers did read the files
    assert con.execute("select count(*) from f.raw.sendgrid__events").fetchone()[0] > 1000
    assert differences(con) == []
    # rows of a file keep their order through the parts (insertion order = row order)
    rows = [r for (r,) in con.execute(
        "select _row from f.raw.sendgrid__events where _file = (select _file from f.raw.sendgrid__events "
        "group by _file order by count(*) desc limit 1) order by rowid").fetchall()]
    assert len(rows) > 997 and rows == sorted(rows)


def test_failed_files_duplicates_and_snapshots_on_workers(tmp_path, monkeypatch):
    """A rejected file, a file whose bytes another file of the run already has, and a snapshot file whose rows
    an earlier file of the run already landed are settled as in one process: in discovery order."""
    data = tmp_path / "data"
    events = "\n".join(json.dumps({"email": f"u{i}@example.com", "timestamp": 1785686419 + i, "event": "delivered",
                                   "sg_event_id": f"e{i}"}) for i in range(300))
    contacts = "Record ID,Email,First Name,Last Modified Date\n" + "".join(
        f"{i},c{i}@example.com,C{i},2026-11-0{1 + i % 5}T10:00:00Z\n" for i in range(40))
    files = {
        "sendgrid/events/a.jsonl": events,
        "sendgrid/events/b_copy.jsonl": events,  # same bytes: skipped
        "sendgrid/events/c.json": "[{not json",  # rejected whole
        "hubspot/contacts/2026-11-01.csv": contacts,
        "hubspot/contacts/2026-11-02.csv": contacts + "99,new@example.com,New,2026-11-02T10:00:00Z\n",
    }
    for rel, text in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(text)
    con, report = load_both(data, tmp_path, monkeypatch)
    assert differences(con) == []
    by_path = {f.path: f for f in report.files}
    assert by_path["sendgrid/events/b_copy.jsonl"].status == "skipped"
    assert by_path["sendgrid/events/c.json"].status == "failed"
    assert (by_path["hubspot/contacts/2026-11-02.csv"].rows_loaded,
            by_path["hubspot/contacts/2026-11-02.csv"].rows_unchanged) == (1, 40)
    assert con.execute("select count(*) from f.raw.quarantine where file = 'sendgrid/events/c.json'").fetchone()[0] == 1


def test_worker_count_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "3")
    assert workers.worker_count() == 3
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "many")
    with pytest.raises(ValueError, match="LIST_HYGIENE_INGEST_WORKERS"):
        workers.worker_count()


def two_one_event_files(data: Path) -> None:
    """sendgrid/events/a.jsonl and b.jsonl under `data`, one event each."""
    for name in ("a", "b"):
        p = data / "sendgrid" / "events" / f"{name}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"email": f"{name}@example.com", "timestamp": 1785686419, "event": "open",
                                 "sg_event_id": name}))


def test_small_runs_stay_in_one_process(tmp_path, monkeypatch):
    """Below PARALLEL_MIN_BYTES of new files, starting workers would cost more than it saves."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 10_000)
    two_one_event_files(tmp_path / "data")
    with duckdb.connect() as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
    assert report.rows_loaded == 2 and report.to_dict()["workers"] == 0


def test_the_writer_lands_on_one_thread_while_workers_read(tmp_path, monkeypatch):
    """The writing connection uses one DuckDB thread while the workers have the cores, and gets its own
    setting back afterwards (the final checkpoint and whatever the caller runs next use them all)."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    two_one_event_files(tmp_path / "data")
    seen = []
    land_parts = workers.land_parts

    def spy(con, *args, **kwargs):
        seen.append(con.execute("select current_setting('threads')").fetchone()[0])
        return land_parts(con, *args, **kwargs)

    monkeypatch.setattr(workers, "land_parts", spy)
    with duckdb.connect(config={"threads": 3}) as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        assert con.execute("select current_setting('threads')").fetchone()[0] == 3
    assert report.rows_loaded == 2 and report.to_dict()["workers"] == 2
    assert seen == [1, 1]


def two_sources(data: Path) -> None:
    """SendGrid a.jsonl / b.jsonl and Mailgun c.json / d.json under `data`, one event each."""
    two_one_event_files(data)
    for name in ("c", "d"):
        p = data / "mailgun" / "events" / f"{name}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"items": [{"event": "delivered", "id": name, "timestamp": 1785686419.5,
                                            "recipient": f"{name}@example.com"}]}))


def test_sources_are_grouped_in_discovery_order_the_most_bytes_first():
    def job(platform, size):
        return loader.Job(Path(f"{platform}.json"), platform, platform, "events", "", platform, size)

    planned = [job("a", 10), job("b", 500), job("a", 30), loader.FileResult("c/x", "c", "events", "skipped"),
               job("b", 1), job("d", 100), job("e", 90)]
    assert workers.by_source(planned) == [[1, 4], [5], [6], [0, 2], [3]]


def test_sources_land_on_two_connections_at_once(tmp_path, monkeypatch):
    """Each source lands on one writer lane (its own connection), the lanes side by side; the report keeps
    discovery order."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    two_sources(tmp_path / "data")
    lanes_of: dict[str, set[str]] = {}
    both = threading.Barrier(2, timeout=20)  # passes only if two lanes land at the same time
    land_parts = workers.land_parts

    def spy(con, job, *args, **kwargs):
        lanes_of.setdefault(job.platform, set()).add(threading.current_thread().name)
        if job.path.name in ("a.jsonl", "c.json"):
            both.wait()
        return land_parts(con, job, *args, **kwargs)

    monkeypatch.setattr(workers, "land_parts", spy)
    with duckdb.connect() as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        assert con.execute("select count(*) from raw._manifest where status = 'loaded'").fetchone()[0] == 4
    assert [f.path for f in report.files] == ["mailgun/events/c.json", "mailgun/events/d.json",
                                              "sendgrid/events/a.jsonl", "sendgrid/events/b.jsonl"]
    assert report.rows_loaded == 4
    assert all(len(names) == 1 for names in lanes_of.values())
    assert lanes_of["sendgrid"] != lanes_of["mailgun"]


class ReadHere:
    """A pool that reads each unit in this process when it is submitted: every file is read before any lands."""

    def submit(self, fn, *args):
        future = Future()
        future.set_result(fn(*args))
        return future


@pytest.mark.parametrize(("row_group_rows", "commits"), [(10_000, 2), (1, 4)])
def test_small_files_of_a_source_share_a_commit(tmp_path, monkeypatch, row_group_rows, commits):
    """Read files of one source land in one transaction until its rows are `whole`; every file still lands
    whole with its manifest row."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "ROW_GROUP_ROWS", row_group_rows)
    monkeypatch.setattr(workers, "_executor", lambda n: ReadHere())
    two_sources(tmp_path / "data")
    closed = []
    close = workers._Group.close

    def counting(group):
        closed.append(group.active)
        close(group)

    monkeypatch.setattr(workers._Group, "close", counting)
    with duckdb.connect() as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        assert con.execute("select count(*) from raw._manifest where status = 'loaded'").fetchone()[0] == 4
        assert con.execute("select count(*) from raw.sendgrid__events").fetchone()[0] == 2
    assert report.rows_loaded == 4
    assert sum(closed) == commits


def test_whole_commits_leave_row_groups_the_checkpoint_keeps(tmp_path):
    """The premise of `whole`, on this DuckDB: 5000-row files committed a row group at a time leave a few
    rows in a last row group per commit, and the checkpoint merges those, rewriting the full row groups
    between them; committed when `whole`, every row group stays as the commits wrote it."""

    def row_groups(name: str, can_commit) -> tuple[int, int]:
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        con.execute("create table t (k varchar, n bigint)")
        con.execute("set checkpoint_threshold = '10GB'")
        count = "select count(distinct row_group_id) from pragma_storage_info('t')"
        rows = 0
        con.begin()
        for f in range(120):
            con.execute("insert into t select md5((? * 5000 + range)::varchar), range from range(5000)", [f])
            rows += 5000
            if can_commit(rows):
                con.commit()
                con.begin()
                rows = 0
        con.commit()
        before = con.execute(count).fetchone()[0]
        con.execute("checkpoint")
        after = con.execute(count).fetchone()[0]
        con.close()
        return before, after

    before, after = row_groups("a_row_group_at_a_time", lambda rows: rows >= workers.ROW_GROUP_ROWS)
    assert after < before  # merged: what `whole` avoids
    before, after = row_groups("whole", workers.whole)
    assert after == before


def test_whole_needs_a_row_group_and_a_last_one_more_than_half_full():
    full = workers.ROW_GROUP_ROWS
    assert not workers.whole(full - 1)  # through the WAL
    assert workers.whole(full) and workers.whole(3 * full)
    assert not workers.whole(full + 5000) and not workers.whole(2 * full + full // 2)
    assert workers.whole(full + full // 2 + 1) and workers.whole(2 * full - 1)


def test_a_workers_duckdb_spills_under_the_runs_scratch_folder(tmp_path, monkeypatch):
    """The reading DuckDB is in memory: left to itself it spills into `.tmp` under the working directory and
    leaves that folder there. It spills under the run's scratch folder instead, a new one each run."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "_executor", lambda n: ReadHere())
    scratches = []
    mkdtemp = workers.tempfile.mkdtemp
    monkeypatch.setattr(workers.tempfile, "mkdtemp", lambda **kw: scratches.append(mkdtemp(**kw)) or scratches[-1])
    monkeypatch.chdir(tmp_path)
    spills = []
    for run in ("one", "two"):
        two_sources(tmp_path / run)
        with duckdb.connect() as con:
            ingest(con, tmp_path / run, loaded_at=LOADED_AT)
        spills.append(workers._con.execute("select current_setting('temp_directory')").fetchone()[0])
    assert [Path(s).parent for s in spills] == [Path(s) for s in scratches]
    assert not Path(scratches[0]).exists()  # removed with the run's scratch folder


def test_a_failing_lane_raises_its_error_from_ingest(tmp_path, monkeypatch):
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    two_sources(tmp_path / "data")
    land_parts = workers.land_parts

    def failing(con, job, *args, **kwargs):
        if job.platform == "mailgun":
            raise OSError("disk full")
        return land_parts(con, job, *args, **kwargs)

    monkeypatch.setattr(workers, "land_parts", failing)
    with duckdb.connect() as con, pytest.raises(OSError, match="disk full"):
        ingest(con, tmp_path / "data", loaded_at=LOADED_AT)


def test_files_are_read_here_when_the_worker_processes_stop(tmp_path, monkeypatch, caplog):
    """A pool that breaks (a script without a `__main__` guard, a killed worker) costs speed, not rows."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "2")
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    two_sources(tmp_path / "data")

    class BrokenPool:
        def submit(self, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future

    monkeypatch.setattr(workers, "_executor", lambda n: BrokenPool())
    monkeypatch.setattr(workers, "_drop_pool", lambda: None)
    with duckdb.connect() as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        assert con.execute("select count(*) from raw.sendgrid__events").fetchone()[0] == 2
        assert con.execute("select count(*) from raw.mailgun__events").fetchone()[0] == 2
    assert report.rows_loaded == 4 and {f.status for f in report.files} == {"loaded"}
    assert "worker processes stopped" in caplog.text


@pytest.mark.parametrize("hash_chunk", [None, 1, 4, 7, 1 << 20])
@pytest.mark.parametrize("span_bytes", [1, 5, 9, 64])
def test_spans_cut_at_line_ends_and_number_lines(tmp_path, monkeypatch, span_bytes, hash_chunk):
    """Spans cover the file exactly, start at line starts, and know their first line's number (blank lines,
    CRLF and a last line without a newline included); counted from the newline marks hashing leaves
    (`hash_chunk` bytes apart) or, without them, from the file."""
    text = b'{"a":1}\n\n{"bb":22}\r\n{"ccc":333}\n\n\n{"d":4}'
    p = tmp_path / "a.jsonl"
    p.write_bytes(text)
    newlines = None
    if hash_chunk:
        monkeypatch.setattr(loader, "HASH_CHUNK", hash_chunk)
        newlines = []
        assert loader.sha256_of(p, newlines) == loader.sha256_of(p)
        assert len(newlines) == -(-len(text) // hash_chunk) + 1 and newlines[-1] == text.count(b"\n")
    cut = workers.spans(p, len(text), span_bytes, newlines)
    assert b"".join(text[a:b] for a, b, _ in cut) == text
    assert [a for a, _, _ in cut] == sorted({a for a, _, _ in cut})
    for a, _, first in cut:
        assert a == 0 or text[a - 1:a] == b"\n"
        assert first == text[:a].count(b"\n") + 1
    lines = [(n, line) for span in cut for n, line in loader.jsonl_lines(p, span)]
    assert lines == list(enumerate(text.splitlines(keepends=True), start=1))


@pytest.mark.parametrize("n_workers", ["2", "1"])
def test_ingest_reports_where_its_cpu_went_per_file_and_source(tmp_path, monkeypatch, caplog, n_workers):
    """Each file read counts its reading's CPU seconds (a worker's, or this process's when read here) and, when a
    worker read it, the writer's landing seconds; `seconds_by_source` adds them up per source, and the log (an
    Airflow task's) says it per source. A file landed before costs a run nothing."""
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", n_workers)
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    two_sources(tmp_path / "data")
    with duckdb.connect() as con, caplog.at_level(logging.INFO, logger="list_hygiene.ingest.loader"):
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        logged = caplog.text
        caplog.clear()
        again = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
    for source in ("sendgrid/events", "mailgun/events"):
        assert re.search(rf"ingest {source}: 2 rows in 2 files, [0-9.]+ CPU s reading and checking, [0-9.]+ CPU s "
                         "landing", logged), logged
    assert "CPU s" not in caplog.text  # nothing read the second time
    on_workers = report.to_dict()["workers"] > 0
    assert on_workers == (n_workers == "2")
    assert [f.status for f in report.files] == ["loaded"] * 4
    for f in report.files:
        assert f.read_cpu_seconds > 0, f
        assert (f.land_cpu_seconds > 0) == on_workers, f
    by_source = report.to_dict()["seconds_by_source"]
    assert set(by_source) == {"sendgrid/events", "mailgun/events"}
    for source, spent in by_source.items():
        files = [f for f in report.files if f"{f.platform}/{f.entity}" == source]
        assert spent["read"] == pytest.approx(sum(f.read_cpu_seconds for f in files), abs=1e-3)
        assert spent["land"] == pytest.approx(sum(f.land_cpu_seconds for f in files), abs=1e-3)
    assert [f.status for f in again.files] == ["skipped"] * 4
    assert again.to_dict()["seconds_by_source"] == {s: {"read": 0.0, "land": 0.0} for s in by_source}


def webhook_bodies(data: Path, bodies: dict[str, list]) -> None:
    """SendGrid webhook bodies (JSON arrays of events) under data/sendgrid/events."""
    for name, docs in bodies.items():
        p = data / "sendgrid" / "events" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("[\n" + ",\n".join(json.dumps(d) for d in docs) + "\n]\n")


def sg_event(i: int, **more) -> dict:
    return {"email": f"U{i}@Example.com", "timestamp": 1785686419 + i, "event": "delivered", "sg_event_id": f"e{i}"} | more


def bodies_with(odd: dict | None = None) -> dict[str, list]:
    """Five webhook bodies: unknown keys in b (one the spec expects), an empty c, e the same bytes as a; and
    `odd` as the second event of d."""
    d = [sg_event(40), odd or sg_event(41), sg_event(42)]
    a = [sg_event(i) for i in range(3)]
    return {"a.json": a, "b.json": [sg_event(10, note="x"), sg_event(11, pool={"name": "p"})], "c.json": [],
            "d.json": d, "e.json": a}


@pytest.mark.parametrize("odd", [None, sg_event(41, timestamp="soon"), sg_event(41, email="Zoë@exämple.com")])
def test_small_json_files_are_read_together_as_each_alone(tmp_path, monkeypatch, odd):
    """Small JSON array files of one source are read in one go by a worker (`read_bundle_in_worker`), each file
    landing as if read alone: its own rows, row numbers, unknown keys and manifest row, a copy skipped (an address
    that needs IDN handling is normalised by Python within the bundle); a document SQL is not sure of (here a
    timestamp Python quarantines) has each file read alone instead, with the Python checks."""
    monkeypatch.setattr(loader, "FAST_PATH", True)
    webhook_bodies(tmp_path / "data", bodies_with(odd))
    with duckdb.connect() as planning:
        loader.ensure_raw_schema(planning)
        jobs = [loader.plan_file(planning, p, tmp_path / "data", "sendgrid", "events")
                for p in sorted((tmp_path / "data" / "sendgrid" / "events").iterdir())]
    assert workers.bundles(jobs) == [jobs]
    calls = []
    bundle = workers.fast_path.load_json_bundle

    def spy(*args, **kwargs):
        calls.append(bundle(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(workers.fast_path, "load_json_bundle", spy)
    monkeypatch.setattr(workers, "_executor", lambda n: ReadHere())  # in this process, to see the spy
    con, report = load_both(tmp_path / "data", tmp_path, monkeypatch)
    assert differences(con) == []
    second = odd or sg_event(41)
    quarantined = second["timestamp"] == "soon"
    if quarantined:
        assert calls == [None]  # then read one by one
    else:
        assert calls == [[(3, set()), (2, {"note", "pool"}), (0, set()), (3, set()), (3, set())]]
    by_path = {f.path: f for f in report.files}
    assert [by_path[f"sendgrid/events/{n}.json"].status for n in "abcde"] == ["loaded"] * 4 + ["skipped"]
    assert by_path["sendgrid/events/b.json"].extra_columns == ["note"]
    assert all(by_path[f"sendgrid/events/{n}.json"].read_cpu_seconds > 0 for n in "abcd")
    assert con.execute("select _file, _row, email from f.raw.sendgrid__events where _file like '%d.json' "
                       "order by _row").fetchall() == [
        ("sendgrid/events/d.json", 1, "U40@Example.com"),
        *([] if quarantined else [("sendgrid/events/d.json", 2, second["email"])]),
        ("sendgrid/events/d.json", 3, "U42@Example.com")]
    if quarantined:
        assert con.execute("select file, row_number, field from f.raw.quarantine").fetchall() == [
            ("sendgrid/events/d.json", 2, "timestamp")]


def test_small_json_files_read_together_on_worker_processes(tmp_path, monkeypatch):
    """The same on real worker processes: the bundle's parts come back per file and land as one process lands."""
    monkeypatch.setattr(loader, "FAST_PATH", True)
    webhook_bodies(tmp_path / "data", bodies_with())
    con, report = load_both(tmp_path / "data", tmp_path, monkeypatch)
    assert differences(con) == []
    assert report.to_dict()["workers"] >= 1
    assert con.execute("select count(*) from f.raw.sendgrid__events").fetchone()[0] == 8


def test_bundles_are_runs_of_small_json_files_of_one_source(tmp_path, monkeypatch):
    """Consecutive small JSON files DuckDB reads itself, of one source, up to BUNDLE_BYTES a run; a JSONL file,
    a big file, another source or a CSV file ends a run; a run of one file is no bundle. SendGrid suppression
    lists are not bundled: their rows take the list's name from the file's path."""
    monkeypatch.setattr(loader, "FAST_PATH", True)
    monkeypatch.setattr(workers, "BUNDLE_BYTES", 1000)
    monkeypatch.setattr(workers, "BUNDLE_FILE_BYTES", 500)

    def job(rel: str, size: int) -> loader.Job:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"[" + b" " * (size - 2) + b"]")
        platform, entity, _ = rel.split("/")
        return loader.Job(p, rel, platform, entity, "", rel, size)

    jobs = [job("sendgrid/events/a.json", 400), job("sendgrid/events/b.json", 400), job("sendgrid/events/c.json", 400),
            job("sendgrid/events/d.json", 100), job("sendgrid/events/e.jsonl", 100), job("sendgrid/events/f.json", 100),
            job("sendgrid/events/g.json", 600), job("sendgrid/events/h.json", 100),
            job("sendgrid/suppressions/i.json", 100), job("hubspot/contacts/j.csv", 100),
            job("sendgrid/suppressions/k.json", 100), job("sendgrid/suppressions/l.json", 100),
            job("sendgrid/events/m.json", 100), job("sendgrid/events/n.json", 100)]
    names = [[j.path.name for j in run] for run in workers.bundles(jobs)]
    assert names == [["a.json", "b.json"], ["c.json", "d.json"], ["m.json", "n.json"]]
    monkeypatch.setattr(loader, "FAST_PATH", False)
    assert workers.bundles(jobs) == []
