"""The fast path: DuckDB checks rows column-wise; Python settles only the doubtful ones.

The Python loader (loader.py) parses, checks and normalises one row at a time: about 25 k rows per CPU
second. Here the checks run in DuckDB on a batch at a time:

- flat JSON exports (one record per document: SendGrid events and suppression lists) are read by
  DuckDB itself: a JSONL file is cut into lines by NumPy (so line numbers stay exact, blank lines
  included), a JSON array is read by `read_json_objects`; every field's JSON path is extracted in one
  `json_extract_string` call, unknown keys go to `_extra`;
- everything else (CSV, JSON whose records a spec's Python `records` function flattens) is read by the
  Python readers as before, but handed over as Arrow columns (`ColumnBatch`) instead of being checked
  row by row;
- checks: sql_checks.py (sufficient conditions: SQL never accepts a value Python would reject);
  addresses that are not plain ASCII go through `normalize_email` in Python, once per distinct value.

Every document (or record) DuckDB is not certain about is handed back to the Python checks, which load
or quarantine it with the exact reason. So both paths load the same rows (tests/ingest/test_fast_path.py
compares them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .emails import normalize_email
from .specs import EMAIL_NORMALIZED, EMAIL_PROBLEM, SourceSpec
from .sql_checks import json_document_ok, json_text_ok, plain_address, value_ok

CHUNK_BYTES = 64 * 1024 * 1024  # JSONL is processed in slices of about this size (bounded memory)
NEWLINE_SCAN = 1024 * 1024  # bytes of a slice looked through for newlines at a time (a small scratch mask)
MIN_BYTES = 256 * 1024  # below this, query set-up costs more than the Python path spends on the file


class Unsupported(Exception):
    """This file is not for the fast path (caller uses the Python path for the whole file)."""


def _json_path(source: str) -> str:
    return "$." + ".".join('"' + part + '"' for part in source.split("."))


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def reads_json(spec: SourceSpec, path: Path) -> bool:
    """DuckDB reads this file itself: flat JSON (no `records` function) big enough to pay the set-up."""
    return spec.format == "json" and spec.records is None and path.stat().st_size >= MIN_BYTES


def _fields_sql(spec: SourceSpec, docs: str, path_values: dict[str, Any], carry: tuple[str, ...] = ()) -> str:
    """One row per document of relation `docs` (`_doc`, `doc`: JSON text DuckDB and Python read alike): the spec's
    fields as text (Python's `spec.texts`), `_extra`, and `_sure`, false where Python must decide (not an object,
    or a key given twice: DuckDB reads the first value, json.loads the last).

    Each json_* call parses the text again, so the costly tests run only where they can matter. A document whose
    every key is a field the spec reads from the top level, with a value, has no repeated and no unknown key: its
    non-null extracted fields are as many as its keys (a second copy of a key, or a key the spec does not know,
    would make the keys more). That holds for 5 in 6 SendGrid events; only the others pay for comparing the key
    list with its distinct values and for looking for unknown keys (953 k SendGrid events, one thread: 4.9 -> 3.7 s).
    Columns named in `carry` (of `docs`) are passed through.
    """
    sourced = [f for f in spec.fields if f.name not in path_values]
    paths = "[" + ", ".join(_sql_text(_json_path(f.source)) for f in sourced) + "]"
    cols = [f'v[{i + 1}] as "{f.name}"' for i, f in enumerate(sourced)]
    cols += [f'{_sql_text(str(path_values[f.name]))} as "{f.name}"' for f in spec.fields if f.name in path_values]
    # the count above stands for the key tests only when each field is its own top-level key
    sources = [f.source for f in sourced]
    flat = all("." not in s for s in sources) and len(set(sources)) == len(sources)
    only_known = "len(_keys) = list_count(v)" if flat else "false"
    if spec.keep_extra:
        known = sorted({f.source.split(".")[0] for f in spec.fields})
        patch = _sql_text(json.dumps(dict.fromkeys(known)))
        # only a record with a key the spec does not know has an `_extra` (about one SendGrid event in six):
        # the merge, which parses the record once more, is left out for the others
        names = "[" + ", ".join(_sql_text(k) for k in known) + "]"
        extra = (f"case when len(list_filter(_keys, lambda k: not list_contains({names}, k))) > 0 "
                 f"then nullif(json_merge_patch(rec, {patch})::varchar, '{{}}') end")
    else:
        extra = "null::varchar"
    # valid JSON text is an object exactly when it starts with `{` (after JSON's own whitespace)
    obj = "starts_with(ltrim(doc, E' \\t\\n\\r'), '{')"
    carried = "".join(f"{c}, " for c in carry)
    return (
        f"select {carried}_doc, case when _doc = 0 then _sub else _doc end as _row, case when _doc = 0 then 0 else _sub end "
        f"as _sub, _obj and (case when _only_known then true else len(_keys) = len(list_distinct(_keys)) end) "
        f"as _sure, {', '.join(cols)}, case when _obj and not _only_known then {extra} end as _extra "
        f"from (select *, {only_known} as _only_known from (select {carried}_doc, 0::integer as _sub, doc as rec, "
        f"json_keys(doc) as _keys, json_extract_string(doc, {paths}) as v, {obj} as _obj from {docs}))"
    )


def settle(con: duckdb.DuckDBPyConnection, spec: SourceSpec, sink, rows: str) -> list[int]:
    """Insert the certainly-fine documents of relation `rows` into raw; return the other documents' keys.

    `rows` has `_doc` (the unit handed back), `_row`, `_sub`, `_sure`, one text column per field and `_extra`.
    """
    check_rows(con, spec, sink.latest, rows)
    doubtful = sorted(d for (d,) in con.execute("select distinct _doc from _lh_checked where not _ok").fetchall())
    sink.python_docs += len(doubtful)
    keep = "_doc not in (select _doc from _lh_checked where not _ok)"
    if spec.keep_extra:
        keys = con.execute(
            f"select distinct unnest(json_keys(_extra)) from _lh_checked where _extra is not null and {keep}"
        ).fetchall()
        sink.note_extra(k for (k,) in keys)
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    params = [sink.file_id, sink.rel, sink.loaded_at]
    if sink.write is not None:  # in raw's column order and types
        inserted = sink.write(sink, (
            f"select {_typed(spec)}, _extra::varchar as _extra, ?::varchar as _file_id, ?::varchar as _file, "
            f"_row::integer as _row, _sub::integer as _sub, ?::timestamp as _loaded_at from _lh_checked where {keep}"),
            params)
    else:
        inserted = con.execute(
            f"insert into raw.{spec.table} ({cols}, _extra, _file_id, _file, _row, _sub, _loaded_at) "
            f"select {cols}, _extra, ?, ?, _row, _sub, ?::timestamp from _lh_checked where {keep}",
            params,
        ).fetchone()[0]
    sink.loaded += inserted
    con.execute("drop table _lh_checked")
    sink.inserted()
    return doubtful


def _typed(spec: SourceSpec) -> str:
    return ", ".join(f'"{c}"::varchar as "{c}"' for c in spec.columns)


def check_rows(con: duckdb.DuckDBPyConnection, spec: SourceSpec, latest: datetime, rows: str) -> None:
    """Table `_lh_checked`: relation `rows` with the normalised address and `_ok`, true where SQL is sure.

    A plain ASCII address is normalised in SQL (`lower`); the few others are normalised by `normalize_email`
    afterwards, once per distinct value, and their rows updated."""
    email = spec.email_field
    checks = [value_ok(f, f'r."{f.name}"', latest) for f in spec.fields]
    vals_ok = "coalesce(" + " and ".join(["r._sure", *checks]) + ", false)"
    if email is None:
        con.execute(f"create or replace temp table _lh_checked as select r.*, {vals_ok} as _ok from {rows} r")
    else:
        col = f'"{email.name}"'
        # a NULL address is settled by the field checks (a required one fails them); '' goes to Python
        con.execute(
            f"create or replace temp table _lh_checked as select *, case when _plain then lower({col}) end as "
            f"{EMAIL_NORMALIZED}, null::varchar as {EMAIL_PROBLEM}, _vals_ok and (_plain or {col} is null) as _ok "
            f"from (select r.*, {plain_address('r.' + col)} as _plain, {vals_ok} as _vals_ok from {rows} r)")
    if email is not None:
        odd = [v for (v,) in con.execute(
            f"select distinct {col} from _lh_checked where {col} is not null and not _plain").fetchall()]
        if odd:
            norms = [normalize_email(v) for v in odd]
            con.register("_lh_emails", pa.table({
                "raw": pa.array(odd, pa.string()),
                "email": pa.array([n.email for n in norms], pa.string()),
                "problem": pa.array([n.problem for n in norms], pa.string()),
            }))
            found = "e.email is not null" if email.not_empty else "true"
            con.execute(
                f"update _lh_checked c set {EMAIL_NORMALIZED} = e.email, {EMAIL_PROBLEM} = e.problem, "
                f"_ok = c._vals_ok and {found} from _lh_emails e where e.raw = c.{col} and not c._plain")
            con.unregister("_lh_emails")


def _process(con, spec: SourceSpec, sink, path_values: dict, docs: str,
             python_doc: Callable[[int], None]) -> None:
    """Records → fields → checks for the documents in relation `docs`; doubtful ones go to `python_doc`."""
    con.execute("set enable_progress_bar = false")
    con.execute(f"create or replace temp view _lh_rows as {_fields_sql(spec, docs, path_values)}")
    for doc in settle(con, spec, sink, "_lh_rows"):
        python_doc(doc)
    con.execute("drop view _lh_rows")


def _jsonl_slices(path: Path, span: tuple[int, int, int] | None = None
                  ) -> Iterator[tuple[int, memoryview, np.ndarray]]:
    """(first line number, slice, line ends) of whole lines, about CHUNK_BYTES each (of `span` only, if given: first
    byte, end byte, first line number). The line ends are offsets into the slice; the last is its length.

    A slice is a view of one buffer that the next slice overwrites: the span is read into the same memory again and
    again. (Reading each slice into new bytes, then joining and cutting it, and finding its newlines touched four
    fresh 64 MB blocks per slice, each paid for by a page fault and zeroing every 4 KB.)"""
    start, end, lineno = span or (0, None, 1)
    buf = bytearray(max(CHUNK_BYTES, 1))
    mask = np.empty(min(len(buf), NEWLINE_SCAN), dtype=bool)
    held = 0  # bytes of an unfinished line at the front of buf
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        left = end - start if end is not None else None
        while True:
            if held == len(buf):  # a line longer than the buffer: a bigger one (views of this one may live on)
                buf = bytearray(buf) + bytearray(len(buf))
            view = memoryview(buf)
            want = len(buf) - held if left is None else min(len(buf) - held, left)
            n = fh.readinto(view[held:held + want]) if want else 0
            if left is not None:
                left -= n
            if not n:
                if held:
                    yield lineno, view[:held], _line_ends(view[:held], mask)
                return
            have = held + n
            cut = buf.rfind(b"\n", 0, have) + 1
            if cut == 0:
                held = have
                continue
            ends = _line_ends(view[:cut], mask)
            yield lineno, view[:cut], ends
            lineno += len(ends)  # each ends with its newline
            held = have - cut
            view[:held] = bytes(view[cut:have])  # the unfinished line to the front (a copy: they may overlap)


def _line_ends(data: memoryview, mask: np.ndarray) -> np.ndarray:
    """Where each line of `data` ends (after its newline; the last may have none), found a `mask` at a time."""
    raw = np.frombuffer(data, np.uint8)
    step = len(mask)
    ends = [np.flatnonzero(np.equal(raw[a:a + step], 10, out=mask[:len(raw[a:a + step])])) + (a + 1)
            for a in range(0, len(raw), step)]
    if data[-1] != 10:
        ends.append(np.array([len(data)]))
    return np.concatenate(ends).astype(np.int64)


def load_jsonl(con, path: Path, spec: SourceSpec, sink, path_values: dict, python_line: Callable[[int, bytes], None],
               span: tuple[int, int, int] | None = None):
    for first, data, ends in _jsonl_slices(path, span):
        offsets = np.concatenate([[0], ends]).astype(np.int64)
        n = len(offsets) - 1
        lines = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        con.register("_lh_lines", pa.table({"_doc": pa.array(np.arange(first, first + n, dtype=np.int64)), "line": lines}))
        # decoded into a table first: the checks below name the text a dozen times, and run on the decoding in a
        # subquery they took half as long again (64 MB of SendGrid events, one thread: 0.45 -> 0.30 s in all)
        con.execute("create or replace temp table _lh_decoded as select _doc, try(decode(line)) as t from _lh_lines")
        con.unregister("_lh_lines")
        # text that is not UTF-8, not JSON, or JSON Python may read differently goes to Python
        con.execute(
            f"""create or replace temp table _lh_text as
            select _doc, t, t is not null and {json_text_ok('t')} as fine
            from _lh_decoded
            where t is null or not regexp_full_match(t, '[ \\t\\r\\n\\x0b\\x0c]*')"""
        )
        con.execute("drop table _lh_decoded")
        doubtful = [d for (d,) in con.execute("select _doc from _lh_text where not fine order by _doc").fetchall()]
        sink.python_docs += len(doubtful)
        con.execute("create or replace temp view _lh_docs as select _doc, t as doc from _lh_text where fine")

        def line_of(doc: int, data=data, offsets=offsets, first=first) -> bytes:
            i = doc - first
            return bytes(data[offsets[i]:offsets[i + 1]])

        _process(con, spec, sink, path_values, "_lh_docs", lambda d, line_of=line_of: python_line(d, line_of(d)))
        for d in doubtful:
            python_line(d, line_of(d))
        con.execute("drop view _lh_docs")
        con.execute("drop table _lh_text")
        sink.flush()


def _read_documents(con, paths: list[str], fmt: str, filename: bool = False) -> bool:
    """Table `_lh_read` (`doc`, and `filename` if asked): the JSON documents of `paths` as DuckDB reads them
    (duckdb.Error when it cannot). False when json.loads would read any of them otherwise (sql_checks.json_text_ok):
    checked on each file's text, where a trailing comma or an `inf` still shows, and on each document (nesting,
    long integers: read_json_objects gives each document's own text, as written)."""
    size = max(max(Path(p).stat().st_size for p in paths) + 1, 16 * 1024 * 1024)
    con.execute(
        f"create or replace temp table _lh_read as select {'filename, ' if filename else ''}json::varchar as doc "
        f"from read_json_objects(?, format = '{fmt}', filename = {str(filename).lower()}, "
        f"maximum_object_size = {min(size, 2**32 - 1)})", [paths])
    try:
        (fine,) = con.execute(
            f"select coalesce(bool_and({json_document_ok('doc')}), true) and (select bool_and("
            f"{json_text_ok('content', document=False)}) from read_text(?)) from _lh_read", [paths]).fetchone()
    except duckdb.Error:  # e.g. text that is not UTF-8
        return False
    return bool(fine)


def load_json_file(con, path: Path, spec: SourceSpec, sink, path_values: dict,
                   python_doc: Callable[[int, Any], None]) -> None:
    """A `.json` file: an array of documents, or one whole-file document (row 0)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    fmt = "array" if head[:1] == b"[" else "unstructured"
    try:
        fine = _read_documents(con, [str(path)], fmt)
    except duckdb.Error as exc:
        raise Unsupported(str(exc)) from None
    if not fine:  # the file takes the Python path
        raise Unsupported("JSON that json.loads reads otherwise")
    # a table keeps insertion order: rowid is the element's place in the array (rows added inside a
    # transaction are numbered from a large offset, hence the minimum)
    con.execute("create or replace temp table _lh_docs as select (rowid - (select min(rowid) from _lh_read) + 1)"
                "::bigint as _doc, doc from _lh_read")
    con.execute("drop table _lh_read")
    if fmt == "unstructured":
        if con.execute("select count(*) from _lh_docs").fetchone()[0] != 1:
            raise Unsupported("not exactly one JSON document")
        con.execute("update _lh_docs set _doc = 0")

    def fallback(doc: int) -> None:
        if doc == 0:
            raise Unsupported("the whole-file document needs the Python path")
        (text,) = con.execute("select doc from _lh_docs where _doc = ?", [doc]).fetchone()
        python_doc(doc, json.loads(text))

    _process(con, spec, sink, path_values, "_lh_docs", fallback)
    con.execute("drop table _lh_docs")
    sink.flush()



def load_json_bundle(con, spec: SourceSpec, paths: list[str], names: list[tuple[str, str]], latest: datetime,
                     loaded_at: datetime, out_dir: str) -> list[tuple[int, set[str]]] | None:
    """Several small JSON array files of one source read, checked and written in one go, for files too small
    to pay each statement's set-up alone (1,457 SendGrid webhook bodies of 5,000 events at 1 M contacts: 19
    against 11 µs an event as a JSONL span).

    `names` gives each path's (`_file_id`, `_file`); no field comes from a path (`workers.bundled`). The rows go
    to Parquet parts under `out_dir`, a folder per file (`_file_id=<id>`). Returns each file's (rows, unknown
    keys), or None when any file or document needs more than SQL: not an array DuckDB reads, JSON Python reads
    otherwise, or a row the checks are not sure of. The caller then reads the files one by one (the Python path
    settles what SQL left)."""
    try:
        fine = _read_documents(con, paths, "array", filename=True)
    except duckdb.Error:  # not an array, ...
        return None
    if not fine:
        return None
    # the files are read one after the other, each in order: rowid counts each file's elements
    con.execute(
        "create or replace temp table _lh_docs as select list_position(?::varchar[], filename) as _f, "
        "(rowid - min(rowid) over (partition by filename) + 1)::bigint as _doc, doc from _lh_read", [paths])
    con.execute("drop table _lh_read")
    if con.execute("select count(*) from _lh_docs where _f is null").fetchone()[0]:  # a path DuckDB names otherwise
        con.execute("drop table _lh_docs")
        return None
    check_rows(con, spec, latest, f"({_fields_sql(spec, '_lh_docs', {}, carry=('_f',))})")
    con.execute("drop table _lh_docs")
    if con.execute("select count(*) from _lh_checked where not _ok").fetchone()[0]:
        con.execute("drop table _lh_checked")
        return None
    rows = dict(con.execute("select _f, count(*) from _lh_checked group by _f").fetchall())
    keys: dict[int, set[str]] = {}
    if spec.keep_extra:
        for f, key in con.execute("select distinct _f, unnest(json_keys(_extra)) from _lh_checked "
                                  "where _extra is not null").fetchall():
            keys.setdefault(f, set()).add(key)
    ids, rels = [i for i, _ in names], [r for _, r in names]
    con.execute(
        f"copy (select {_typed(spec)}, _extra::varchar as _extra, (?::varchar[])[_f] as _file_id, "
        f"(?::varchar[])[_f] as _file, _row::integer as _row, _sub::integer as _sub, ?::timestamp as _loaded_at "
        f"from _lh_checked) to '{out_dir}' "
        f"(format parquet, partition_by (_file_id), write_partition_columns true)", [ids, rels, loaded_at])
    con.execute("drop table _lh_checked")
    return [(rows.get(f, 0), keys.get(f, set())) for f in range(1, len(paths) + 1)]


# the characters str.isspace() is true for: a CSV record whose fields hold only these (and commas) is blank
_SPACES = "".join(rf"\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace())
CSV_FIELD_LIMIT = 16 * 1024 * 1024  # loader.py's csv.field_size_limit: a longer line goes to Python's reader
# text json.dumps escapes (a quote, a backslash, a control character): an unknown column holding it goes to Python
_JSON_ESCAPED = r'[\\"\x00-\x1f]'


def load_csv_lines(con, path: Path, offset: int, spec: SourceSpec, sink, header: list[str],
                   plan: list[tuple[int | None, Any]], extra_idx: list[int],
                   parse_line: Callable[[bytes], list[str] | None],
                   python_record: Callable[[int, bytes], None]) -> None:
    """The records of a CSV file after its header (which ends at byte `offset`, on line 1), each one physical
    line, cut into fields by DuckDB; what Python's `csv` reader would read otherwise is read by Python.

    A line with no quote, no carriage return but one before its newline, no NUL and valid UTF-8 is split at its
    commas exactly as `csv.reader` splits it. Any other line is read by `parse_line`: its fields (None when they
    hold undecodable bytes); it raises Unsupported when the line is not a whole record alone (a quoted field
    running over lines, broken quoting), and the file then starts again on the Python reader. Blank lines are
    no records, as in `loader._load_csv`, so `_row` counts the others. `plan` gives each field's column (or a
    constant), `extra_idx` the unknown columns. A record DuckDB does not settle (a field count that is off, an
    unknown column's text JSON would escape, a value the checks are not sure of) goes to `python_record(record
    number, line)`, the Python checks."""
    width = len(header)
    values = [f"nullif(v[{i + 1}], '')" if i is not None else ("null" if const is None else _sql_text(str(const)))
              for i, const in plan]
    names = ", ".join(f'{sql} as "{f.name}"' for sql, f in zip(values, spec.fields, strict=True))
    # an unknown column's JSON as json.dumps(ensure_ascii=False) writes it, for text it does not escape
    pairs = [f"case when v[{i + 1}] <> '' then {_sql_text(json.dumps(header[i], ensure_ascii=False) + ': ')} "
             f"|| '\"' || v[{i + 1}] || '\"' end" for i in extra_idx]
    extra = f"nullif('{{' || concat_ws(', ', {', '.join(pairs)}) || '}}', '{{}}')" if pairs else "null::varchar"
    escaped = " or ".join(f"regexp_matches(v[{i + 1}], {_sql_text(_JSON_ESCAPED)})" for i in extra_idx) or "false"
    records = 0  # records before this slice
    con.execute("set enable_progress_bar = false")
    for first, data, ends in _jsonl_slices(path, (offset, None, 2)):
        bounds = np.concatenate([[0], ends]).astype(np.int64)
        n = len(bounds) - 1
        con.register("_lh_raw", pa.table({
            "_line": pa.array(np.arange(first, first + n, dtype=np.int64)),
            "line": pa.LargeBinaryArray.from_buffers(pa.large_binary(), n,
                                                     [None, pa.py_buffer(bounds), pa.py_buffer(data)])}))
        con.execute(
            f"""create or replace temp table _lh_lines as
            select _line, t is null or contains(t, '"') or contains(t, chr(0)) or strlen(t) > {CSV_FIELD_LIMIT}
                or (contains(t, chr(13)) and not (ends_with(t, chr(13) || chr(10))
                                                  and strlen(t) - strlen(replace(t, chr(13), '')) = 1)) as special,
                rtrim(t, chr(13) || chr(10)) as body
            from (select _line, try(decode(line)) as t from _lh_raw)""")
        read = [(no, parse_line(line)) for no, line in con.execute(
            "select _line, line from _lh_raw semi join (select _line from _lh_lines where special) using (_line) "
            "order by _line").fetchall()]
        con.register("_lh_special", pa.table({
            "_line": pa.array([no for no, _ in read], pa.int64()),
            "v": pa.array([row for _, row in read], pa.list_(pa.string())),
            # blank: no field with anything but whitespace (undecodable bytes are not whitespace)
            "record": pa.array([int(row is None or any(v.strip() for v in row)) for _, row in read], pa.int64())}))
        con.execute(
            f"""create or replace temp table _lh_split as
            select _line, v, record, {records} + sum(record) over (order by _line rows unbounded preceding) as _row
            from (select _line, string_split(body, ',') as v,
                         case when regexp_full_match(body, '[,{_SPACES}]*') then 0 else 1 end as record
                  from _lh_lines where not special
                  union all select _line, v, record from _lh_special)
            order by _line""")
        con.unregister("_lh_special")
        records = con.execute(f"select coalesce(max(_row), {records}) from _lh_split").fetchone()[0]
        con.execute(
            f"""create or replace temp view _lh_rows as
            select _line as _doc, _row, 0 as _sub, coalesce(len(v) = {width} and not ({escaped}), false) as _sure,
                   {names}, {extra} as _extra
            from _lh_split where record = 1""")
        doubtful = settle(con, spec, sink, "_lh_rows")
        if doubtful:
            for row, line in con.execute(
                    "select s._row, r.line from _lh_split s join _lh_raw r using (_line) "
                    "where s._line in (select unnest(?::bigint[])) order by s._line", [doubtful]).fetchall():
                python_record(row, line)
        con.unregister("_lh_raw")
        for name in ("view _lh_rows", "table _lh_split", "table _lh_lines"):
            con.execute(f"drop {name}")
        sink.flush()


class ColumnBatch:
    """Records read by a Python reader, checked by DuckDB in one go (see `settle`).

    `add` takes a record's field values (text, in `spec.fields` order), its `_extra` JSON and its place;
    `unit` is whatever the caller needs to settle the record itself when DuckDB is unsure (`python_record`).
    """

    def __init__(self, con, spec: SourceSpec, sink, python_record: Callable[[Any], None], size: int = 50_000):
        self.con, self.spec, self.sink, self.python_record, self.size = con, spec, sink, python_record, size
        self.names = [f.name for f in spec.fields]
        self.values: list[list[str | None]] = []
        self.extra: list[str | None] = []
        self.place: list[tuple[int, int]] = []
        self.units: list[Any] = []

    def add(self, values: list[str | None], extra: str | None, row: int, sub: int, unit: Any) -> None:
        self.values.append(values)
        self.extra.append(extra)
        self.place.append((row, sub))
        self.units.append(unit)
        if len(self.values) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.values:
            return
        units = self.units
        try:
            table = self._table()
        except (UnicodeEncodeError, pa.ArrowException):  # text Arrow cannot hold (lone surrogates): Python decides
            self._reset()
            for unit in units:
                self.python_record(unit)
            return
        self._reset()
        self.con.execute("set enable_progress_bar = false")
        self.con.register("_lh_batch", table)
        try:
            doubtful = settle(self.con, self.spec, self.sink, "_lh_batch")
        finally:
            self.con.unregister("_lh_batch")
        for i in doubtful:
            self.python_record(units[i])

    def _table(self) -> pa.Table:
        n = len(self.values)
        cols = list(zip(*self.values, strict=True)) if n else [[] for _ in self.names]
        rows, subs = zip(*self.place, strict=True)
        arrays = {
            "_doc": pa.array(np.arange(n, dtype=np.int64)),
            "_row": pa.array(rows, pa.int32()),
            "_sub": pa.array(subs, pa.int32()),
            "_sure": pa.array(np.ones(n, dtype=bool)),
        }
        arrays |= {name: pa.array(col, pa.string()) for name, col in zip(self.names, cols, strict=True)}
        arrays["_extra"] = pa.array(self.extra, pa.string())
        return pa.table(arrays)

    def _reset(self) -> None:
        self.values, self.extra, self.place, self.units = [], [], [], []
