"""Land export files in `raw`: every row either loaded or quarantined with its file, row and reason.

Files are streamed (CSV reader, one JSONL line at a time); a file is loaded inside one transaction
with its manifest row, so a crash never leaves half a file behind, and a file whose bytes were
loaded before is skipped by checksum.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import fast_path, json_decode, json_stream
from .emails import normalize_email
from .specs import EMAIL_NORMALIZED, EMAIL_PROBLEM, SPECS, TEXT, SourceSpec, checked_platforms
from .validate import RowProblem, check_value, has_invalid_utf8, latest_plausible

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
# DuckDB reads and checks JSON exports column-wise (fast_path.py); False = the per-row Python path only
FAST_PATH = os.environ.get("LIST_HYGIENE_INGEST_FAST_PATH", "1") != "0"
# big `.json` files are streamed (json_stream.py) rather than parsed whole; "0" parses every file whole
STREAM = os.environ.get("LIST_HYGIENE_INGEST_STREAM", "1") != "0"
# DuckDB checkpoints once its WAL holds 16 MB (its default): with a transaction per file that was a
# checkpoint every few small files, half of the landing process's time on 5000-event webhook bodies.
# Ingest raises the line for its run, then checkpoints once at the end.
CHECKPOINT_THRESHOLD = "256MB"
META_COLUMNS = ("_extra", "_file_id", "_file", "_row", "_sub", "_loaded_at")
csv.field_size_limit(16 * 1024 * 1024)
# undecodable bytes (read with surrogateescape) and lone surrogates from JSON escapes: neither can be stored as UTF-8
_UNENCODABLE = re.compile("[\ud800-\udfff]")


# (first byte, end byte, number of the first line): the part of a JSONL file one worker reads
Span = tuple[int, int, int]


class FileRejected(Exception):
    """The whole file cannot be loaded (missing required column, not JSON at all, ...)."""


@dataclass
class FileResult:
    path: str
    platform: str
    entity: str
    status: str  # loaded | skipped | failed | no_connector
    rows_loaded: int = 0
    rows_quarantined: int = 0
    extra_columns: list[str] = field(default_factory=list)
    error: str | None = None
    rows_unchanged: int = 0  # snapshot sources: rows identical to a row landed from an earlier file
    # where ingest's time went (IngestReport.seconds_by_source): CPU seconds reading and checking the file (a
    # worker process's, DuckDB's threads included; this process's when read here, landing included), and CPU
    # seconds of the writer thread landing the worker's rows in raw (0 when read here)
    read_cpu_seconds: float = 0.0
    land_cpu_seconds: float = 0.0


@dataclass
class IngestReport:
    files: list[FileResult]
    worker_peak_rss_kib: dict[int, int] = field(default_factory=dict)  # worker processes (workers.py), by pid

    def by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            s = out.setdefault(f"{f.platform}/{f.entity}",
                               {"files": 0, "rows": 0, "quarantined": 0, "unchanged": 0, "failed": 0})
            s["unchanged"] += f.rows_unchanged
            s["files"] += f.status == "loaded"
            s["rows"] += f.rows_loaded
            s["quarantined"] += f.rows_quarantined
            s["failed"] += f.status == "failed"
        return out

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    def seconds_by_source(self) -> dict[str, dict[str, float]]:
        """CPU seconds per source: `read` (workers reading and checking its files) and `land` (the writer landing
        their rows in raw). What a source costs beside the DuckDB read floor (bench/pipeline_benchmark.py)."""
        out: dict[str, dict[str, float]] = {}
        for f in self.files:
            s = out.setdefault(f"{f.platform}/{f.entity}", {"read": 0.0, "land": 0.0})
            s["read"] += f.read_cpu_seconds
            s["land"] += f.land_cpu_seconds
        return {k: {n: round(v, 3) for n, v in s.items()} for k, s in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "files": [asdict(f) for f in self.files],
            "by_source": self.by_source(),
            "seconds_by_source": self.seconds_by_source(),
            "workers": len(self.worker_peak_rss_kib),
            "worker_peak_rss_mib": round(sum(self.worker_peak_rss_kib.values()) / 1024, 1),
        }


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        """create table if not exists raw._manifest (
            file_id varchar primary key, platform varchar, entity varchar, path varchar, sha256 varchar,
            bytes bigint, rows_loaded bigint, rows_quarantined bigint, extra_columns varchar,
            status varchar, error varchar, loaded_at timestamp)"""
    )
    con.execute("alter table raw._manifest add column if not exists rows_unchanged bigint")
    con.execute("alter table raw._manifest add column if not exists mtime_ns bigint")
    con.execute(
        """create table if not exists raw.quarantine (
            file_id varchar, platform varchar, entity varchar, file varchar, row_number integer,
            sub_index integer, field varchar, reason varchar, raw_text varchar, loaded_at timestamp)"""
    )
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for spec in SPECS.values():
        if spec.table not in existing:
            cols = ", ".join(f'"{c}" varchar' for c in spec.columns)
            con.execute(
                f"create table if not exists raw.{spec.table} ({cols}, _extra varchar, _file_id varchar, "
                "_file varchar, _row integer, _sub integer, _loaded_at timestamp)"
            )
            continue
        for c in spec.columns:  # a spec that gained a field since the table was made
            if c not in existing[spec.table]:
                con.execute(f'alter table raw.{spec.table} add column if not exists "{c}" varchar')


HASH_CHUNK = 1 << 20  # bytes read at a time when hashing; also the step of a JSONL file's newline marks


def sha256_of(path: Path, newlines: list[int] | None = None) -> str:
    """The file's SHA-256. Given an empty list, also fills it with the number of newlines before each
    HASH_CHUNK boundary (0 first), so that a JSONL file is cut into numbered spans without reading it again."""
    h = hashlib.sha256()
    if newlines is not None:
        newlines.append(0)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(HASH_CHUNK), b""):
            h.update(chunk)
            if newlines is not None:
                newlines.append(newlines[-1] + chunk.count(b"\n"))
    return h.hexdigest()


def discover(data_dir: Path, platforms: Iterable[str] | None = None) -> Iterator[tuple[Path, str, str]]:
    """Files under DATA/<platform>/<entity>/, in a stable order. A file straight under DATA/<platform>/ comes
    with entity "" (reported as misplaced, not skipped in silence)."""
    wanted = set(platforms) if platforms else None
    for pdir in sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if wanted is not None and pdir.name not in wanted:
            continue
        for f in sorted(pdir.iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.name.lower() != "readme.md":
                yield f, pdir.name, ""
        for edir in sorted(e for e in pdir.iterdir() if e.is_dir() and not e.name.startswith(".")):
            for f in sorted(edir.rglob("*")):
                if f.is_file() and not f.name.startswith(".") and f.name.lower() != "readme.md":
                    yield f, pdir.name, edir.name


def unread_files(data_dir: Path) -> list[dict[str, str]]:
    """Files in the landing folder that no connector reads: an unsupported platform or entity folder, or a file
    straight under a platform folder. They stay where they are, unloaded; the run summary lists them (the daily
    DAG ingests each known platform on its own and would never look at, say, DATA/klaviyo/)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return []
    return [{"path": path.relative_to(data_dir).as_posix(), "reason": no_connector_reason(platform, entity)}
            for path, platform, entity in discover(data_dir) if (platform, entity) not in SPECS]


def no_connector_reason(platform: str, entity: str) -> str:
    return (f"no connector for {platform}/{entity}" if entity
            else f"not in an entity folder (expected {platform}/<entity>/<file>)")


class _Sink:
    """Buffers loaded and quarantined rows of one file and writes them in Arrow batches."""

    def __init__(self, con, spec: SourceSpec, file_id: str, rel: str, loaded_at: datetime,
                 spill: Callable[[_Sink], None] | None = None,
                 write: Callable[[_Sink, str, list], int] | None = None):
        self.con, self.spec, self.file_id, self.rel, self.loaded_at = con, spec, file_id, rel, loaded_at
        self.spill = spill  # called after rows were inserted (worker processes: move them out, see workers.py)
        # the fast path's checked rows: `write(sink, query, params)` takes them from the query's result (in raw's
        # column order and types) and returns how many; None: they are inserted into raw here
        self.write = write
        self.rows: list[list[Any]] = []
        self.quarantine: list[tuple] = []
        self.loaded = 0
        self.quarantined = 0
        self.extra_columns: set[str] = set()
        self.python_docs = 0  # fast path: documents DuckDB left to the Python checks
        self.latest = latest_plausible(loaded_at)  # timestamps after this are impossible
        self.email = spec.email_field
        # plain text fields need no per-value check (undecodable bytes are caught per row, below)
        self.checked = [f for f in spec.fields if f.kind != TEXT or f.not_empty]

    def note_extra(self, names: Iterable[str]) -> None:
        """Schema drift: unknown columns/keys are kept in `_extra`; the ones the spec does not expect are reported."""
        self.extra_columns.update(n for n in names if n not in self.spec.known_extra)

    def check(self, values: dict[str, str | None]) -> None:
        """Validate every field and add the normalised address; raises RowProblem."""
        joined = "\x00".join(v for v in values.values() if v)
        if not joined.isascii() and _UNENCODABLE.search(joined):
            bad = next(f for f in self.spec.fields if values.get(f.name) and _UNENCODABLE.search(values[f.name]))
            raise RowProblem(bad.name, f"invalid UTF-8 in field '{bad.source or bad.name}'")
        for f in self.checked:
            check_value(f, values.get(f.name), self.latest)
        if self.email is not None:
            norm = normalize_email(values.get(self.email.name))
            if norm.email is None and self.email.not_empty:
                raise RowProblem(self.email.name, f"no address left in field '{self.email.source}' after normalisation")
            values[EMAIL_NORMALIZED] = norm.email
            values[EMAIL_PROBLEM] = norm.problem

    def add(self, values: dict[str, str | None], extra: dict | None, row: int, sub: int) -> None:
        extra_text = json.dumps(extra, ensure_ascii=False) if extra else None
        if extra_text and not extra_text.isascii() and _UNENCODABLE.search(extra_text):
            # an unknown key's value holds text UTF-8 cannot store: the row cannot be kept as it is
            key = next(k for k, v in extra.items() if _UNENCODABLE.search(json.dumps([k, v], ensure_ascii=False)))
            self.reject(row, sub, key, f"invalid UTF-8 in field '{key}'",
                        json.dumps(values | extra, ensure_ascii=False, default=str))
            return
        self.rows.append([values.get(c) for c in self.spec.columns] + [extra_text, self.file_id, self.rel, row, sub])
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def reject(self, row: int | None, sub: int, fld: str | None, reason: str, raw_text: str) -> None:
        self.quarantine.append(
            (self.file_id, self.spec.platform, self.spec.entity, self.rel, row, sub, fld, reason,
             _clean(raw_text[:4000]), self.loaded_at)
        )
        self.quarantined += 1

    def flush(self) -> None:
        if self.rows:
            names = list(self.spec.columns) + ["_extra", "_file_id", "_file", "_row", "_sub"]
            cols = list(zip(*self.rows, strict=True))
            arrays = [pa.array(c, type=pa.string()) for c in cols[:-2]] + [
                pa.array(cols[-2], type=pa.int32()),
                pa.array(cols[-1], type=pa.int32()),
            ]
            batch = pa.Table.from_arrays(arrays, names=names)
            self.con.register("_lh_batch", batch)
            self.con.execute(
                f"insert into raw.{self.spec.table} by name select *, ?::timestamp as _loaded_at from _lh_batch",
                [self.loaded_at],
            )
            self.con.unregister("_lh_batch")
            self.loaded += len(self.rows)
            self.rows = []
        if self.quarantine:
            self.con.executemany("insert into raw.quarantine values (?,?,?,?,?,?,?,?,?,?)", self.quarantine)
            self.quarantine = []
        self.inserted()

    def inserted(self) -> None:
        """Rows went into raw (here or from the fast path's SQL)."""
        if self.spill is not None:
            self.spill(self)


def _clean(raw: str) -> str:
    """Text for people: undecodable bytes shown as \\xNN, lone surrogates (from JSON escapes) as \\uNNNN."""
    if raw.isascii() or not _UNENCODABLE.search(raw):
        return raw
    raw = re.sub("[\udc80-\udcff]", lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", raw)
    return raw.encode("utf-8", "backslashreplace").decode("utf-8")


class _Lines:
    """Feeds the CSV reader line by line and keeps the physical lines of the current record, so a
    quarantined record keeps its raw text exactly (also when its quoting is broken)."""

    CAP = 8000

    def __init__(self, text: Iterator[str]):
        self.text = text
        self.buf: list[str] = []
        self.size = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.text)
        if self.size < self.CAP:
            self.buf.append(line)
            self.size += len(line)
        return line

    def take(self) -> str:
        raw = "".join(self.buf).rstrip("\r\n")
        self.buf, self.size = [], 0
        return _clean(raw)


def _load_csv(path: Path, spec: SourceSpec, sink: _Sink, path_values: dict,
              batch: fast_path.ColumnBatch | None = None, by_line: bool = False) -> None:
    """`batch`: the fast path, DuckDB checks the records; `by_line` too: DuckDB also cuts the records into fields
    where each is one line of plain text (fast_path.load_csv_lines; raises fast_path.Unsupported when it cannot)."""
    with open(path, "rb") as fb:
        text = io.TextIOWrapper(fb, encoding="utf-8-sig", errors="surrogateescape", newline="")
        lines = _Lines(text)
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise FileRejected("file is empty (no header row)") from None
        except csv.Error as exc:
            raise FileRejected(f"header row is not valid CSV: {exc}") from None
        header_text = lines.take()
        header = [h.strip() for h in header]
        by_label = {h: i for i, h in enumerate(header)}
        missing = [f.source for f in spec.fields if f.required and f.source not in by_label]
        if missing:
            raise FileRejected(f"missing required column {', '.join(repr(m) for m in missing)}")
        known = {f.source for f in spec.fields}
        extra_idx = [i for i, h in enumerate(header) if h not in known]
        sink.note_extra(header[i] for i in extra_idx)
        derived = (spec.derived({}, header) if spec.derived else {}) | path_values
        # per field, in spec.fields order: its column (or None), unless a derived value stands in for it
        plan = [(None, derived[f.name]) if f.name in derived else (by_label.get(f.source) if f.source else None, None)
                for f in spec.fields]

        def fields(n: int, row: list[str], raw_text: str) -> tuple[list[str | None], dict | None] | None:
            """A record's field values (spec.fields order) and unknown columns, or None: quarantined."""
            if len(row) != len(header):
                sink.reject(n, 0, None, f"expected {len(header)} fields, found {len(row)}", raw_text)
                return None
            bad = has_invalid_utf8(row)
            if bad is not None:
                name = next((f.name for f in spec.fields if f.source == header[bad]), header[bad])
                sink.reject(n, 0, name, f"invalid UTF-8 in field '{header[bad]}'", raw_text)
                return None
            extra = {header[i]: row[i] for i in extra_idx if row[i] != ""} or None
            return [(row[i] or None) if i is not None else const for i, const in plan], extra

        if by_line:
            fb.seek(0)
            first = fb.readline()
            if '"' in header_text or "\r" in header_text or _clean(
                    first.decode("utf-8", "surrogateescape").removeprefix("\ufeff").rstrip("\r\n")) != header_text:
                raise fast_path.Unsupported("a header of more than one plain line")

            def python_record(n: int, line: bytes) -> None:
                raw_text = _clean(line.decode("utf-8", "surrogateescape").rstrip("\r\n"))
                got = fields(n, _csv_line(line), raw_text)
                if got is not None:
                    _csv_record(n, *got, raw_text, sink)

            fast_path.load_csv_lines(sink.con, path, len(first), spec, sink, header, plan, extra_idx,
                                     _csv_line_text, python_record)
            return
        n = 0
        while True:
            n += 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                sink.reject(n, 0, None, f"broken CSV quoting near line {reader.line_num}: {exc}", lines.take())
                continue
            raw_text = lines.take()
            if not any(v.strip() for v in row):
                n -= 1  # blank line: not a record
                continue
            got = fields(n, row, raw_text)
            if got is None:
                continue
            values, extra = got
            if batch is not None:
                batch.add(values, json.dumps(extra, ensure_ascii=False) if extra else None, n, 0,
                          (n, values, extra, raw_text))
                continue
            _csv_record(n, values, extra, raw_text, sink)
        if batch is not None:
            batch.flush()


def _csv_line(line: bytes) -> list[str]:
    """One physical line's fields as `csv.reader` reads them (undecodable bytes as surrogates); raises
    fast_path.Unsupported when the line is not a whole record alone."""
    try:
        rows = list(csv.reader([line.decode("utf-8", "surrogateescape")], strict=True))
    except csv.Error as exc:
        raise fast_path.Unsupported(f"a record that is not one line: {exc}") from None
    if len(rows) != 1:
        raise fast_path.Unsupported("a line of more than one record")
    return rows[0]


def _csv_line_text(line: bytes) -> list[str] | None:
    """`_csv_line`, or None when a field holds undecodable bytes (Arrow cannot hold them; Python quarantines)."""
    row = _csv_line(line)
    return None if has_invalid_utf8(row) is not None else row


def _csv_record(n: int, field_values: list[str | None], extra: dict | None, raw_text: str, sink: _Sink) -> None:
    """The Python checks for one CSV record (`field_values` in spec.fields order): load or quarantine it. On the
    fast path only for the records DuckDB hands back, so the dict is built for those alone."""
    values = {f.name: v for f, v in zip(sink.spec.fields, field_values, strict=True)}
    try:
        sink.check(values)
    except RowProblem as p:
        sink.reject(n, 0, p.field, p.reason, raw_text)
        return
    sink.add(values, extra, n, 0)


def is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson")


def jsonl_lines(path: Path, span: Span | None = None) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a JSONL file, or of the span of it a worker reads."""
    start, end, first = span or (0, None, 1)
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        for lineno, line in enumerate(fh, start=first):
            if end is not None and pos >= end:
                return
            pos += len(line)
            yield lineno, line


def _documents(path: Path, sink: _Sink, span: Span | None = None,
               spec: SourceSpec | None = None) -> Iterator[tuple[int, Any]]:
    """(row, document) pairs: JSONL lines, array elements, or a single whole-file object (row 0). With a
    `spec`, a big `.json` file is streamed (json_stream.py), which may raise json_stream.StreamUnsupported
    at any point: the caller rolls back and calls again without `spec` (read_file does)."""
    if is_jsonl(path):
        for lineno, line in jsonl_lines(path, span):
            doc = _jsonl_document(lineno, line, sink)
            if doc is not _NO_DOC:
                yield lineno, doc
        return
    streamed = json_stream.stream_documents(path, spec) if spec is not None and STREAM else None
    if streamed is not None:
        yield from streamed
        return
    raw = path.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRejected(f"file is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(f"file is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise FileRejected("file is not readable JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python's int string limit
        raise FileRejected(f"file is not readable JSON: {exc}") from None
    del raw
    if isinstance(doc, list):
        yield from ((i + 1, d) for i, d in enumerate(doc))
    else:
        yield 0, doc


def _load_json(path: Path, spec: SourceSpec, sink: _Sink, path_values: dict, span: Span | None = None,
               stream: bool = True) -> None:
    known_top = {f.source.split(".")[0] for f in spec.fields}
    for row, doc in _documents(path, sink, span, spec if stream else None):
        _json_document(row, doc, spec, sink, path_values, known_top)


def _json_document(row: int, doc: Any, spec: SourceSpec, sink: _Sink, path_values: dict, known_top: set[str],
                   batch: fast_path.ColumnBatch | None = None) -> None:
    """One parsed document (JSONL line, array element or whole file): its records loaded or quarantined
    (or, with a `batch`, handed to DuckDB's checks first)."""
    if isinstance(doc, json_stream.StreamedDocument):
        records = spec.records(doc)  # one pass, as the file is read; errors raise StreamUnsupported
    else:
        try:
            records = list(spec.records(doc)) if spec.records else [(0, doc)]
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            sink.reject(row, 0, None, f"unreadable record: {exc}", _dumps(doc)[:4000])
            return
    for sub, rec in records:
        r, s = (row, sub) if row else (sub, 0)
        if batch is None or not isinstance(rec, dict):
            _json_record(r, s, rec, spec, sink, path_values, known_top)
            continue
        extra = None
        if spec.keep_extra:
            extra = {k: v for k, v in rec.items() if k not in known_top} or None
        batch.add(spec.texts(rec | path_values if path_values else rec),
                  _extra_json(extra) if extra else None, r, s, (r, s, rec))


_extra_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False)


def _dumps(doc: Any) -> str:
    try:
        return json.dumps(doc, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return "<document too deeply nested to show>"


def _json_record(r: int, s: int, rec: Any, spec: SourceSpec, sink: _Sink, path_values: dict, known_top: set[str]) -> None:
    if not isinstance(rec, dict):
        sink.reject(r, s, None, "record is not a JSON object", json.dumps(rec)[:4000])
        return
    values = dict(zip((f.name for f in spec.fields), spec.texts(rec | path_values if path_values else rec),
                      strict=True))
    try:
        sink.check(values)
    except RowProblem as p:
        sink.reject(r, s, p.field, p.reason, json.dumps(rec, ensure_ascii=False, default=str))
        return
    extra = None
    if spec.keep_extra:
        extra = {k: v for k, v in rec.items() if k not in known_top} or None
        if extra:
            sink.note_extra(extra)
    sink.add(values, extra, r, s)


def _load_json_batched(con, path: Path, spec: SourceSpec, sink: _Sink, path_values: dict,
                       span: Span | None = None, stream: bool = True) -> None:
    """Python reads the documents and flattens the records; DuckDB checks them (fast_path.ColumnBatch)."""
    known_top = {f.source.split(".")[0] for f in spec.fields}

    def python_record(unit: tuple[int, int, Any]) -> None:
        r, s, rec = unit
        if type(rec) is bytes:  # a line `line_texts` read: its record `s` as the dict path builds it
            rec = dict(spec.records(json_decode.loads(rec)))[s]
        _json_record(r, s, rec, spec, sink, path_values, known_top)

    batch = fast_path.ColumnBatch(con, spec, sink, python_record, BATCH_ROWS)
    if spec.line_texts is not None and not spec.keep_extra and not path_values and is_jsonl(path):
        line_texts = spec.line_texts
        for lineno, line in jsonl_lines(path, span):
            rows = line_texts(line)
            if rows is None:  # the dict path decides (and quarantines what is wrong)
                doc = _jsonl_document(lineno, line, sink)
                if doc is not _NO_DOC:
                    _json_document(lineno, doc, spec, sink, path_values, known_top, batch)
                continue
            for sub, values in enumerate(rows, start=1):
                batch.add(values, None, lineno, sub, (lineno, sub, line))
    else:
        for row, doc in _documents(path, sink, span, spec if stream else None):
            _json_document(row, doc, spec, sink, path_values, known_top, batch)
    batch.flush()


_NO_DOC = object()  # a JSONL line that holds no document: blank, or quarantined


def _jsonl_document(lineno: int, line: bytes, sink: _Sink) -> Any:
    """The document on one JSONL line, or `_NO_DOC` (blank line; not UTF-8 or not JSON: quarantined)."""
    if not line.strip():
        return _NO_DOC
    try:
        return json_decode.loads(line)  # json.loads' result or exception, faster
    except UnicodeDecodeError as exc:
        sink.reject(lineno, 0, None, f"invalid UTF-8: {exc.reason}", line.decode("utf-8", "backslashreplace"))
    except json.JSONDecodeError as exc:
        sink.reject(lineno, 0, None, f"invalid JSON: {exc.msg} at column {exc.colno}", _line_text(line))
    except RecursionError:
        sink.reject(lineno, 0, None, "unreadable JSON: nested too deeply", _line_text(line))
    except ValueError as exc:  # e.g. an integer longer than Python's int string limit
        sink.reject(lineno, 0, None, f"unreadable JSON: {exc}", _line_text(line))
    return _NO_DOC


def _line_text(line: bytes) -> str:
    return line.decode("utf-8").rstrip("\r\n")


def _jsonl_line(lineno: int, line: bytes, spec: SourceSpec, sink: _Sink, path_values: dict, known_top: set[str]) -> None:
    """One JSONL line the fast path hands back, exactly as `_documents` + `_load_json` treat it."""
    doc = _jsonl_document(lineno, line, sink)
    if doc is not _NO_DOC:
        _json_document(lineno, doc, spec, sink, path_values, known_top)


def _load_json_fast(con, path: Path, spec: SourceSpec, sink: _Sink, path_values: dict,
                    span: Span | None = None) -> None:
    """DuckDB reads and checks; the documents it is unsure about take the Python path above (fast_path.py)."""
    known_top = {f.source.split(".")[0] for f in spec.fields}
    if is_jsonl(path):
        fast_path.load_jsonl(
            con, path, spec, sink, path_values,
            lambda n, line: _jsonl_line(n, line, spec, sink, path_values, known_top), span,
        )
    else:
        fast_path.load_json_file(
            con, path, spec, sink, path_values,
            lambda n, doc: _json_document(n, doc, spec, sink, path_values, known_top),
        )


NOT_A_REPORT = "no bounce, complaint, delivery report or auto-reply found in the message"


def _mail_time(*values: str | None) -> str | None:
    """The first of the DSN / message dates (RFC 5322 text) that parses, as ISO 8601 UTC text."""
    for value in values:
        if not value:
            continue
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:  # RFC 5322 "-0000": the zone is unknown, taken as UTC
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _load_mail(path: Path, spec: SourceSpec, sink: _Sink, path_values: dict) -> None:
    """Raw messages (.eml, mbox, a maildir's cur/new file): one row per recipient that parse_message reports.

    `_row` is the message's place in the file (1 for an .eml, 1.. within an mbox), `_sub` the recipient's place
    in the message (1..). A message the parser cannot read, or that holds no report at all, is quarantined whole.
    """
    from list_hygiene.bounces.dsn import UnparsableMessage, parse_message  # the parser pulls in the classifier package
    from list_hygiene.bounces.mailbox import iter_messages

    for row, (source, raw) in enumerate(iter_messages(path), start=1):
        raw_text = raw[:4000].decode("utf-8", "backslashreplace")
        try:
            records = parse_message(raw, source)
        except UnparsableMessage as exc:
            sink.reject(row, 0, None, f"unparsable message: {exc.reason}", raw_text)
            continue
        if not records:
            sink.reject(row, 0, None, NOT_A_REPORT, raw_text)
            continue
        digest = hashlib.sha256(raw).hexdigest()
        for sub, record in enumerate(records, start=1):
            values: dict[str, str | None] = {
                "message_hash": digest,
                "recipient_index": str(sub),
                "recipient": record.recipient,
                "report_kind": record.kind,
                "platform": record.platform,
                "event_type": record.event_type,
                "native_type": record.native_type or record.kind,
                "native_subtype": record.native_subtype,
                "status": record.status,
                "reply_code": record.reply_code,
                "diagnostic": record.diagnostic,
                "action": record.action,
                "smtp_command": record.smtp_command,
                "remote_mta": record.remote_mta,
                "reporting_mta": record.reporting_mta,
                "feedback_type": record.feedback_type,
                # when it failed: the last delivery attempt, else when the report was written, else the arrival
                "occurred_at": _mail_time(record.last_attempt_date, record.message_date, record.arrival_date),
                "arrival_date": record.arrival_date,
                "last_attempt_date": record.last_attempt_date,
                "message_date": record.message_date,
                "report_message_id": record.message_id,
                "original_message_id": record.original_message_id,
                "subject": record.subject,
            } | path_values
            try:
                sink.check(values)
            except RowProblem as p:
                sink.reject(row, sub, p.field, p.reason, json.dumps(record.as_dict(), ensure_ascii=False))
                continue
            sink.add(values, None, row, sub)


@dataclass
class Job:
    """One new file to land: what a worker process needs to read and check it."""

    path: Path
    rel: str
    platform: str
    entity: str
    digest: str
    file_id: str
    size: int
    span: Span | None = None  # a worker reads only this part of a big JSONL file
    mtime_ns: int | None = None  # the file's modification time when it was planned (manifest: unchanged files)
    newlines: list[int] | None = None  # a JSONL file's newline marks from hashing (sha256_of), for its spans


@dataclass
class Landed:
    """What reading one file put in `raw` (inside the caller's open transaction)."""

    status: str  # loaded | failed
    error: str | None
    loaded: int
    quarantined: int
    extra_columns: list[str]
    python_docs: int = 0
    cpu_seconds: float = 0.0  # reading and checking it (FileResult.read_cpu_seconds)


def plan_file(con: duckdb.DuckDBPyConnection, path: Path, data_dir: Path, platform: str, entity: str,
              landed: dict[str, tuple] | None = None, hashed: Hashed | None = None) -> Job | FileResult:
    """The file's job, or its result when there is nothing to read (no connector, or bytes landed before).

    `landed` (from `landed_files`): a file at a path the manifest holds, with the size and modification
    time it had when it was landed, is taken as unchanged without reading it. `hashed`: the file's
    `hash_file` result, if already computed."""
    rel = path.relative_to(data_dir).as_posix()
    if (platform, entity) not in SPECS:
        return FileResult(rel, platform, entity, "no_connector", error=no_connector_reason(platform, entity))
    same = _unchanged(landed, rel, platform, entity, path) if hashed is None else None
    if same is not None:
        return seen_result(rel, platform, entity, (rel, same))
    stat, digest, newlines = hashed or hash_file(path)
    seen = _seen(con, platform, entity, digest)
    if seen:
        return seen_result(rel, platform, entity, seen)
    file_id = hashlib.sha256(f"{rel}\0{digest}".encode()).hexdigest()[:20]
    return Job(path, rel, platform, entity, digest, file_id, stat.st_size, mtime_ns=stat.st_mtime_ns,
               newlines=newlines)


def landed_files(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """path → (platform, entity, bytes, mtime_ns, status) of the files in the manifest, for `plan_file`. Empty
    with LIST_HYGIENE_INGEST_REHASH=1: every file is then hashed and compared by content (a tool that
    rewrites files keeping their size and time would otherwise go unnoticed)."""
    if os.environ.get("LIST_HYGIENE_INGEST_REHASH", "0") not in ("", "0"):
        return {}
    rows = con.execute(
        "select path, platform, entity, bytes, mtime_ns, status from raw._manifest where mtime_ns is not null "
        "order by loaded_at"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


Hashed = tuple[os.stat_result, str, list[int] | None]


def hash_file(path: Path) -> Hashed:
    """The file's stat, taken before its SHA-256: a file changed while it is hashed gets a newer time than
    the manifest records, so the next run reads it again. A JSONL file's newline marks come with it."""
    stat = path.stat()
    newlines: list[int] | None = [] if is_jsonl(path) else None
    return stat, sha256_of(path, newlines), newlines


def _unchanged(landed: dict[str, tuple] | None, rel: str, platform: str, entity: str, path: Path) -> str | None:
    """The manifest status of the file at `rel` when its size and modification time are those it had when
    it landed; None otherwise."""
    same = landed.get(rel) if landed else None
    if same is None:
        return None
    stat = path.stat()
    return same[4] if same[:4] == (platform, entity, stat.st_size, stat.st_mtime_ns) else None


def _plan_all(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str, str]], data_dir: Path,
              landed: dict[str, tuple]) -> list[Job | FileResult]:
    """`plan_file` for every file; those not known unchanged are hashed first, on a thread per core
    (hashlib releases the GIL), the largest first: started last, a big file was hashed on one core while
    the other sat idle (1 M contacts: SES's 6.8 GB, 3-4 s)."""
    todo = [f for f, p, e in files
            if (p, e) in SPECS and _unchanged(landed, f.relative_to(data_dir).as_posix(), p, e, f) is None]
    hashed: dict[Path, Hashed] = {}
    if len(todo) > 1:
        todo.sort(key=lambda f: -f.stat().st_size)
        with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 4))) as pool:
            hashed = dict(zip(todo, pool.map(hash_file, todo), strict=True))
    return [plan_file(con, f, data_dir, p, e, landed, hashed.get(f)) for f, p, e in files]


def _seen(con, platform: str, entity: str, digest: str) -> tuple | None:
    return con.execute(
        "select path, status from raw._manifest where platform = ? and entity = ? and sha256 = ?",
        [platform, entity, digest],
    ).fetchone()


def seen_result(rel: str, platform: str, entity: str, seen: tuple) -> FileResult:
    return FileResult(rel, platform, entity, "skipped", error=f"same content already {seen[1]} as {seen[0]}")


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector is off while a file is read, and back as it was after.

    The readers make millions of short-lived dicts and lists, which reference counting frees; meanwhile a
    batch of 50 k rows keeps enough containers alive that every collection walks them all again. Measured on
    one thread, CPU per row: SES 25.7 -> 20.5 us, a Mailchimp activity report 13.5 -> 9.8 us, the Mailgun
    Events page about 45 -> 33 us. A cycle made while reading is collected once the collector is back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def read_file(con: duckdb.DuckDBPyConnection, job: Job, loaded_at: datetime,
              spill: Callable[[_Sink], None] | None = None, on_restart: Callable[[], None] | None = None,
              write: Callable[[_Sink, str, list], int] | None = None) -> Landed:
    """Read, check and insert one file's rows and quarantine rows into `raw` of `con`, whose transaction the
    caller has begun (and commits or rolls back). `spill` is called after inserts (the worker processes move
    rows out of their in-memory database); `on_restart` when what was inserted so far is rolled back; `write`
    (see `_Sink`) takes the fast path's rows instead of an insert into raw."""
    with _no_cyclic_gc():
        return _read_file(con, job, loaded_at, spill, on_restart, write)


def _read_file(con: duckdb.DuckDBPyConnection, job: Job, loaded_at: datetime,
               spill: Callable[[_Sink], None] | None, on_restart: Callable[[], None] | None,
               write: Callable[[_Sink, str, list], int] | None) -> Landed:
    spec = SPECS[(job.platform, job.entity)]
    path, rel = job.path, job.rel
    sink = _Sink(con, spec, job.file_id, rel, loaded_at, spill, write)

    def restart() -> _Sink:
        con.rollback()
        con.begin()
        if on_restart is not None:
            on_restart()
        return _Sink(con, spec, job.file_id, rel, loaded_at, spill, write)

    status, error = "loaded", None
    try:
        try:
            path_values = spec.from_path(rel) if spec.from_path else {}
        except ValueError as exc:
            raise FileRejected(str(exc)) from None
        fast = FAST_PATH and spec.format in ("csv", "json") and job.size >= fast_path.MIN_BYTES
        span = job.span

        def load_json(batched: bool) -> None:
            """Python reads the documents (a big `.json` file streamed; if the stream cannot reproduce
            json.loads' result, the file starts again, parsed whole)."""
            nonlocal sink
            load = _load_json_batched if batched else lambda con, *a, **k: _load_json(*a, **k)
            try:
                load(con, path, spec, sink, path_values, span)
            except json_stream.StreamUnsupported as exc:
                log.info("ingest %s: read whole, the stream cannot (%s)", rel, exc)
                sink = restart()
                load(con, path, spec, sink, path_values, span, stream=False)

        if fast and fast_path.reads_json(spec, path):
            try:
                _load_json_fast(con, path, spec, sink, path_values, span)
            except fast_path.Unsupported as exc:  # start the file again, Python reading the documents
                log.info("ingest %s: DuckDB cannot read it as a whole (%s)", rel, exc)
                sink = restart()
                load_json(batched=True)
        elif spec.format == "json":
            load_json(batched=fast)
        elif fast:
            def load_csv(by_line: bool) -> None:
                _load_csv(path, spec, sink, path_values, fast_path.ColumnBatch(
                    con, spec, sink, lambda unit: _csv_record(*unit, sink), BATCH_ROWS), by_line)

            try:
                load_csv(by_line=True)
            except fast_path.Unsupported as exc:  # start the file again, Python's reader cutting the records
                log.info("ingest %s: DuckDB cannot cut its records (%s)", rel, exc)
                sink = restart()
                load_csv(by_line=False)
        else:
            {"csv": _load_csv, "mail": _load_mail}[spec.format](path, spec, sink, path_values)
        sink.flush()
        if fast:
            log.info("ingest %s: DuckDB checks, %d unit(s) settled by Python", rel, sink.python_docs)
    except FileRejected as exc:
        sink = restart()
        status, error = "failed", f"{rel}: {exc}"
        sink.reject(None, 0, None, str(exc), "")
        sink.flush()
        log.error("ingest: %s", error)
    return Landed(status, error, sink.loaded, sink.quarantined, sorted(sink.extra_columns), sink.python_docs)


def finish_file(con: duckdb.DuckDBPyConnection, job: Job, landed: Landed, loaded_at: datetime,
                commit: bool = True) -> FileResult:
    """Inside the file's transaction: snapshot rows already landed are dropped, the manifest row is written,
    and the transaction is committed (unless `commit` is false: the caller commits several files at once)."""
    spec = SPECS[(job.platform, job.entity)]
    unchanged = drop_unchanged(con, spec, job.file_id) if spec.snapshot and landed.status == "loaded" else 0
    con.execute(
        "insert into raw._manifest (file_id, platform, entity, path, sha256, bytes, rows_loaded, rows_quarantined, "
        "extra_columns, status, error, loaded_at, rows_unchanged, mtime_ns) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [job.file_id, job.platform, job.entity, job.rel, job.digest, job.size, landed.loaded - unchanged,
         landed.quarantined, json.dumps(landed.extra_columns) if landed.extra_columns else None, landed.status,
         landed.error, loaded_at, unchanged, job.mtime_ns],
    )
    if commit:
        con.commit()
    return FileResult(job.rel, job.platform, job.entity, landed.status, landed.loaded - unchanged, landed.quarantined,
                      landed.extra_columns, landed.error, rows_unchanged=unchanged, read_cpu_seconds=landed.cpu_seconds)


def load_file(
    con: duckdb.DuckDBPyConnection, path: Path, data_dir: Path, platform: str, entity: str, loaded_at: datetime
) -> FileResult:
    """Land one file in this process, in one transaction with its manifest row."""
    return land_here(con, plan_file(con, path, data_dir, platform, entity), loaded_at)


def land_here(con: duckdb.DuckDBPyConnection, job: Job | FileResult, loaded_at: datetime) -> FileResult:
    if isinstance(job, FileResult):
        return job
    seen = _seen(con, job.platform, job.entity, job.digest)
    if seen:  # the same bytes under another name, landed earlier in this run
        return seen_result(job.rel, job.platform, job.entity, seen)
    started = time.process_time()  # one file at a time here: this process's CPU is this file's
    con.begin()
    try:
        landed = read_file(con, job, loaded_at)
    except Exception:
        con.rollback()
        raise
    result = finish_file(con, job, landed, loaded_at)
    result.read_cpu_seconds = time.process_time() - started
    return result


def drop_unchanged(con: duckdb.DuckDBPyConnection, spec: SourceSpec, file_id: str) -> int:
    """Snapshot sources: remove the rows of this file that are identical (every column, `_extra` included) to
    a row landed from an earlier file, and return how many. An unchanged contact adds nothing a model could
    use (staging keeps the latest version per id by its modification time), but a full CRM snapshot every
    day would otherwise grow raw, and everything reading it, by the whole list per day."""
    cols = [*spec.columns, "_extra"]
    same = " and ".join(f'o."{c}" is not distinct from n."{c}"' for c in cols)
    return con.execute(
        f"""delete from raw.{spec.table} d where d._file_id = ? and d.rowid in (
                select n.rowid from raw.{spec.table} n semi join raw.{spec.table} o
                on {same} and o._file_id <> n._file_id
                where n._file_id = ?)""",
        [file_id, file_id],
    ).fetchone()[0]


def ingest(
    con: duckdb.DuckDBPyConnection, data_dir: Path, platforms: Iterable[str] | None = None,
    loaded_at: datetime | None = None,
) -> IngestReport:
    """Load every new file under `data_dir` into `raw`; returns what happened to each file."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {data_dir}")
    platforms = checked_platforms(platforms) if platforms else None
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    ensure_raw_schema(con)
    from . import workers  # it imports this module

    planned = _plan_all(con, list(discover(data_dir, platforms)), data_dir, landed_files(con))
    peaks: dict[int, int] = {}
    n = workers.use_workers(planned)
    (threshold,) = con.execute("select current_setting('checkpoint_threshold')").fetchone()
    con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    try:
        if n:
            log.info("ingest: %d files on %d worker processes", sum(isinstance(j, Job) for j in planned), n)
            results = workers.land_all(con, planned, loaded_at, n, peaks)
        else:
            results = [land_here(con, job, loaded_at) for job in planned]
    finally:
        con.execute(f"set checkpoint_threshold = '{threshold}'")
    con.execute("checkpoint")
    for r in results:
        if r.status == "loaded":
            log.info("ingest %s: %d rows, %d quarantined", r.path, r.rows_loaded, r.rows_quarantined)
    report = IngestReport(results, peaks)
    rows = report.by_source()
    for source, spent in report.seconds_by_source().items():
        if spent["read"] or spent["land"]:  # where this run's CPU went (a worker's reading, the writer's landing)
            log.info("ingest %s: %d rows in %d files, %.1f CPU s reading and checking, %.1f CPU s landing", source,
                     rows[source]["rows"], rows[source]["files"], spent["read"], spent["land"])
    return report
