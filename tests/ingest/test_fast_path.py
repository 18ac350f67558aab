"""The fast path (DuckDB checks, fast_path.py) loads exactly what the per-row Python path loads.

conftest.py runs every ingest test on both paths; here the two paths load the same folders side by side
and their raw tables, quarantine and manifest are compared row for row.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from list_hygiene.ingest import fast_path, ingest, loader
from list_hygiene.ingest.loader import IngestReport
from list_hygiene.ingest.specs import SPECS

LOADED_AT = datetime(2026, 11, 25, 12)


def load_pair(data: Path, tmp_path: Path, configure: Callable[[str], None]) -> tuple[duckdb.DuckDBPyConnection, IngestReport]:
    """Ingest `data` twice, into warehouses attached as `f` and `p`, after `configure("f")` and
    `configure("p")` set each way up; returns the connection and the `f` run's report."""
    reports = {}
    for name in ("f", "p"):
        configure(name)
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            reports[name] = ingest(con, data, loaded_at=LOADED_AT)
    con = duckdb.connect()
    for name in ("f", "p"):
        con.execute(f"attach '{tmp_path / f'{name}.duckdb'}' as {name} (read_only)")
    return con, reports["f"]


def load_both(data: Path, tmp_path: Path, monkeypatch) -> duckdb.DuckDBPyConnection:
    """`f`: the fast path, `p`: the per-row Python path."""
    return load_pair(data, tmp_path, lambda name: monkeypatch.setattr(loader, "FAST_PATH", name == "f"))[0]


def load_alike(data: Path, tmp_path: Path, monkeypatch) -> duckdb.DuckDBPyConnection:
    """Both paths over `data` (the conftest puts every file on the fast path); they must load the same rows."""
    con = load_both(data, tmp_path, monkeypatch)
    assert differences(con) == []
    return con


def differences(con) -> list[str]:
    out = []
    for spec in SPECS.values():
        cols = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_catalog = 'p' and table_schema = 'raw' "
            "and table_name = ? and column_name <> '_extra'", [spec.table]).fetchall()]
        sel = ", ".join(f'"{c}"' for c in cols) + ", json(_extra)::varchar"  # _extra compared as JSON
        for a, b in (("f", "p"), ("p", "f")):
            extra = con.execute(f"select * from (select {sel} from {a}.raw.{spec.table} except all "
                                f"select {sel} from {b}.raw.{spec.table}) limit 3").fetchall()
            if extra:
                out.append(f"{spec.table}: only in {a}: {extra}")
    for table, sel in (("quarantine", "file, row_number, sub_index, field, reason, raw_text"),
                       ("_manifest", "path, rows_loaded, rows_quarantined, extra_columns, status, error")):
        for a, b in (("f", "p"), ("p", "f")):
            extra = con.execute(f"select {sel} from {a}.raw.{table} except all select {sel} from {b}.raw.{table}").fetchall()
            if extra:
                out.append(f"{table}: only in {a}: {extra[:3]}")
    return out


def test_bundled_samples_load_identically(samples_dir, tmp_path, monkeypatch):
    con = load_both(samples_dir, tmp_path, monkeypatch)
    assert con.execute("select count(*) from f.raw.sendgrid__events").fetchone()[0] > 1000
    assert differences(con) == []


def write(base: Path, rel: str, data: bytes) -> None:
    p = base / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def sg(**kw) -> dict:
    return {"email": "ana@example.com", "timestamp": 1785686419, "event": "delivered", "sg_event_id": "e1"} | kw


def test_awkward_rows_load_identically(tmp_path, monkeypatch):
    """Rows the SQL checks cannot vouch for (odd addresses and dates, surrogates, numbers as text, unknown
    keys, blank lines, BOMs, CRLF) are settled by Python, so both paths agree on every one of them."""
    docs = [
        sg(),
        sg(email='"Ana Lima" <Ana@Example.COM>', sg_event_id="e2"),          # display name: Python normalises
        sg(email="ana@bücher.example", sg_event_id="e3"),                      # IDN → punycode
        sg(email="not-an-address", sg_event_id="e4"),                          # kept, flagged invalid
        sg(email="", sg_event_id="e5"),                                         # quarantined: empty
        sg(timestamp="1785686419.5", sg_event_id="e6"),                        # numeric text
        sg(timestamp=1785686419.25, sg_event_id="e7"),                         # float
        sg(timestamp=99, sg_event_id="e8"),                                     # before 1990: quarantined
        sg(timestamp=4102444800, sg_event_id="e9"),                            # 2100: quarantined
        sg(attempt="-1", sg_event_id="e10"),                                   # impossible: quarantined
        sg(attempt=" 3 ", sg_event_id="e11"),                                  # int() accepts spaces
        sg(sg_machine_open="Yes", sg_event_id="e12"),
        sg(sg_machine_open="maybe", sg_event_id="e13"),                        # quarantined
        sg(category=["a", "b"], extra_key={"x": 1}, sg_event_id="e14"),       # list + schema drift
        sg(reason="caf\u00e9 \u2603", sg_event_id="e15"),
        sg(sg_event_id=17),                                                     # a number where text is expected
        ["not", "an", "object"],
    ]
    lines = [json.dumps(d, ensure_ascii=False).encode() for d in docs]
    lines.insert(3, b"")                                                         # blank line still counts
    lines.insert(5, b'{"email": "x@example.com", "event": "open", "sg_event_id": "\\ud800", "timestamp": 1785686419}')
    lines.insert(6, b'{"email": "bad\xff@example.com", "event": "open", "sg_event_id": "u1", "timestamp": 1785686419}')
    lines.insert(7, b'{"truncated": ')
    # JSON DuckDB reads but Python does not: a trailing comma, a lower-case nan (sql_checks.json_text_ok)
    lines.insert(8, b'{"email": "y@example.com", "event": "open", "sg_event_id": "t1", "timestamp": 1785686419,}')
    lines.insert(9, b'{"email": "y@example.com", "event": "open", "sg_event_id": "t2", "timestamp": 1785686419, "x": nan}')
    write(tmp_path / "data", "sendgrid/events/a.jsonl", b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    write(tmp_path / "data", "sendgrid/events/b.json", json.dumps(docs).encode())
    # a whole-file object: clean, and one DuckDB is unsure of (the file starts again on the Python path)
    write(tmp_path / "data", "sendgrid/events/c.json", json.dumps(sg(sg_event_id="w1")).encode())
    write(tmp_path / "data", "sendgrid/events/d.json", json.dumps(sg(sg_event_id="w2", timestamp="soon")).encode())
    write(tmp_path / "data", "hubspot/contacts/c.csv", (
        b"Record ID,Email,Create Date,Last Modified Date,Marketing emails bounced,Unknown Column\r\n"
        b"1,ana@example.com,2026-08-01 10:00,2026-08-01T10:00:00Z,0,x\r\n"
        b"2,Bo@Example.com ,2026-8-1,2026-08-01,1,\r\n"
        b"3,,2026-08-01,2026-08-01,0,\r\n"
        b"4,c@example.com,yesterday,2026-08-01,0,\r\n"
        b"5,d@example.com,2026-08-01,2026-08-01,-2,\r\n"
        b",,,,,\r\n"
        b'6,"e@example.com",2026-08-01,2026-08-01,"1",""\r\n'
    ))
    con = load_alike(tmp_path / "data", tmp_path, monkeypatch)
    reasons = [r for (r,) in con.execute("select reason from f.raw.quarantine").fetchall()]
    assert len(reasons) >= 15, reasons  # the bad rows of all the files, with Python's wording
    assert any(re.search(r"before 1990", r) for r in reasons)
    assert con.execute("select count(*) from f.raw.sendgrid__events where sg_event_id = 'w1'").fetchone()[0] == 1
    assert con.execute("select field from f.raw.quarantine where file like '%d.json'").fetchall() == [("timestamp",)]


def test_clean_rows_are_checked_by_duckdb_alone(tmp_path, monkeypatch, caplog):
    """The fast path is not a detour through Python: plain rows never reach the per-row checks."""
    rows = [sg(sg_event_id=f"e{i}", email=f"user{i}@example.com", timestamp=1785686419 + i) for i in range(3000)]
    rows[1500]["timestamp"] = "tomorrow"
    write(tmp_path / "data", "sendgrid/events/a.jsonl", "\n".join(json.dumps(r) for r in rows).encode())
    monkeypatch.setattr(loader, "FAST_PATH", True)
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    calls = []
    original = loader._json_document
    monkeypatch.setattr(loader, "_json_document", lambda *a, **k: (calls.append(a[0]), original(*a, **k)))
    with caplog.at_level(logging.INFO, logger="list_hygiene.ingest.loader"), duckdb.connect() as con:
        report = ingest(con, tmp_path / "data", loaded_at=LOADED_AT)
        assert con.execute("select row_number, field from raw.quarantine").fetchall() == [(1501, "timestamp")]
    assert report.rows_loaded == 2999
    assert calls == [1501]  # only the doubtful line went through Python
    assert "1 unit(s) settled by Python" in caplog.text


@pytest.mark.parametrize("size", [1, 7])
def test_jsonl_slices_keep_line_numbers(tmp_path, monkeypatch, size):
    """Files are read in slices of whole lines; line numbers run on across slices."""
    monkeypatch.setattr(fast_path, "CHUNK_BYTES", size)
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a":1}\n\n{"b":22}\n{"c":333}')
    slices = [(n, bytes(s), e) for n, s, e in fast_path._jsonl_slices(p)]  # a slice is valid until the next one
    assert b"".join(s for _, s, _ in slices) == p.read_bytes()
    starts = [n for n, _, _ in slices]
    assert starts[0] == 1 and starts == sorted(starts)
    assert all(p.read_bytes().split(b"\n")[n - 1] == s.split(b"\n")[0] for n, s, _ in slices)
    lines = [s[a:b] for _, s, ends in slices for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    assert lines == p.read_bytes().splitlines(keepends=True), "line ends cut each slice into its lines"


def test_jsonl_slices_share_a_buffer_but_not_at_once(tmp_path, monkeypatch):
    """One read's slices are views of one buffer (each valid until the next); two reads at once have their own."""
    monkeypatch.setattr(fast_path, "CHUNK_BYTES", 16)
    monkeypatch.setattr(fast_path, "NEWLINE_SCAN", 4)  # newlines looked for 4 bytes at a time
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"".join(b'{"a":%d}\n' % i for i in range(40)))
    b.write_bytes(b"".join(b'{"bb":%d}\n' % i for i in range(30)) + b'{"long":"' + b"x" * 50 + b'"}')
    got: dict[str, list[bytes]] = {"a": [], "b": []}
    owners: dict[str, set[int]] = {"a": set(), "b": set()}
    ends: dict[str, list[int]] = {"a": [], "b": []}
    reads = {"a": fast_path._jsonl_slices(a), "b": fast_path._jsonl_slices(b)}
    while reads:  # one slice of each read in turn
        for name, read in list(reads.items()):
            try:
                _, view, line_ends = next(read)
            except StopIteration:
                del reads[name]
                continue
            owners[name].add(id(view.obj))
            ends[name] += (line_ends + sum(map(len, got[name]))).tolist()
            got[name].append(bytes(view))
    assert len(owners["a"]) == 1 and not owners["a"] & owners["b"], "a buffer per read, shared by its slices"
    assert b"".join(got["a"]) == a.read_bytes()
    assert b"".join(got["b"]) == b.read_bytes(), "the long last line (bigger than a slice) comes whole"
    for name, path in (("a", a), ("b", b)):
        assert ends[name] == list(itertools.accumulate(map(len, path.read_bytes().splitlines(keepends=True))))



# (document, whether SQL settles it, its _extra when it does): the key tests are skipped where every key is a
# field with a value
KEY_SHAPES = [
    (b'{"email": "a@example.com", "event": "open", "sg_event_id": "k1", "timestamp": 1785686419}', True, None),
    (b' \t{"email": "a@example.com", "event": "open", "sg_event_id": "k2", "timestamp": 1785686419}', True, None),
    (b'{"email": "a@example.com", "event": "open", "sg_event_id": "k3", "timestamp": 1785686419, "ip": null}',
     True, None),
    (b'{"email": "a@example.com", "event": "open", "sg_event_id": "k4", "timestamp": 1785686419, "note": "n"}',
     True, '{"note":"n"}'),
    (b'{"ip": null, "ip": "203.0.113.9", "email": "a@example.com", "event": "open", "sg_event_id": "k5", '
     b'"timestamp": 1785686419}', False, None),
    (b'{"email": "a@example.com", "event": "open", "sg_event_id": "k6", "timestamp": 1785686419, "note": 1, '
     b'"note": 2}', False, None),
    (b'{"email": "a@example.com", "email": "b@example.com", "event": "open", "sg_event_id": "k7", '
     b'"timestamp": 1785686419}', False, None),
    (b'[]', False, None),
    (b'{}', True, None),
]


def test_which_documents_sql_settles():
    """`_sure` is false exactly for documents that are not objects or repeat a key, whichever way it is found
    (every key a field with a value, or the key list compared with its distinct values); `_extra` holds the
    unknown keys."""
    con = duckdb.connect()
    con.execute("create table docs (_doc bigint, doc varchar)")
    con.executemany("insert into docs values (?, ?)", [(i + 1, d.decode()) for i, (d, _, _) in enumerate(KEY_SHAPES)])
    rows = fast_path._fields_sql(SPECS[("sendgrid", "events")], "docs", {})
    got = con.execute(f"select _sure, json(_extra)::varchar from ({rows}) order by _doc").fetchall()
    # an unsure document's _extra is never used: the document goes to Python
    assert [(sure, extra if sure else None) for sure, extra in got] == [(sure, extra) for _, sure, extra in KEY_SHAPES]


@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_key_shapes_load_identically(tmp_path, monkeypatch, shape):
    docs = [d for d, _, _ in KEY_SHAPES]
    if shape == "jsonl":
        write(tmp_path / "data", "sendgrid/events/a.jsonl", b"\n".join(docs) + b"\n")
    else:
        write(tmp_path / "data", "sendgrid/events/a.json", b"[" + b",\n".join(docs) + b"]")
    load_alike(tmp_path / "data", tmp_path, monkeypatch)


@pytest.mark.parametrize("odd", [
    b'{"email": "y@example.com", "event": "open", "sg_event_id": "t1", "timestamp": 1785686419,}',   # trailing comma
    b'{"email": "y@example.com", "event": "open", "sg_event_id": "t2", "timestamp": 1785686419, "x": inf}',
    b'{"email": "y@example.com", "event": "open", "sg_event_id": "t3", "timestamp": 1785686419, "x": "\\udc00"}',
    b'{"email": "y@example.com", "event": "open", "event": "click", "sg_event_id": "t4", "timestamp": 1785686419}',
    b'{"email": "y@example.com", "event": "open", "sg_event_id": "t5", "timestamp": 1785686419, "n": '
    + b"[" * 450 + b"]" * 450 + b"}",
    # an integer json.loads refuses (over 4,300 digits), in a key the spec does not read
    b'{"email": "y@example.com", "event": "open", "sg_event_id": "t6", "timestamp": 1785686419, "n": '
    + b"9" * 5000 + b"}",
])
@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_json_python_reads_otherwise_loads_identically(tmp_path, monkeypatch, odd, shape):
    """JSON that DuckDB reads but json.loads rejects or reads otherwise (sql_checks.json_text_ok; a key
    given twice: DuckDB keeps the first, Python the last) is left to Python, in JSONL lines and in the
    documents of a JSON array file alike."""
    clean = json.dumps(sg()).encode()
    if shape == "jsonl":
        write(tmp_path / "data", "sendgrid/events/a.jsonl", clean + b"\n" + odd + b"\n")
    else:
        write(tmp_path / "data", "sendgrid/events/a.json", b"[" + clean + b",\n" + odd + b"]")
    load_alike(tmp_path / "data", tmp_path, monkeypatch)


@pytest.mark.parametrize("number", ["1e16", "1.5E+17", "12345678901234567.0", "1e-05", "0.00001", "2e22",
                                    "1e400", "-3e-7", "0.5", "1234.25", "-0.0", "99999999999999999999"])
@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_numbers_in_text_fields_load_identically(tmp_path, monkeypatch, number, shape):
    """A number where text is kept (a text field, a nested value, an unknown key) is stored as Python writes
    it: DuckDB and Python write large and small floats differently, so those documents go to Python."""
    lines = [json.dumps(sg(sg_event_id=f"c{i}")).encode() for i in range(3)]
    n = number.encode()
    lines.append(b'{"email": "y@example.com", "event": "open", "sg_event_id": ' + n + b', "timestamp": 1785686419}')
    lines.append(b'{"email": "y@example.com", "event": "open", "sg_event_id": "n2", "timestamp": 1785686419, '
                 b'"ip": [' + n + b'], "extra": {"x": ' + n + b'}}')
    if shape == "jsonl":
        write(tmp_path / "data", "sendgrid/events/a.jsonl", b"\n".join(lines) + b"\n")
    else:
        write(tmp_path / "data", "sendgrid/events/a.json", b"[" + b",\n".join(lines) + b"]")
    con = load_alike(tmp_path / "data", tmp_path, monkeypatch)
    assert con.execute("select count(*) from f.raw.sendgrid__events").fetchone()[0] == 5


def test_unstorable_text_in_an_unknown_field_is_quarantined(tmp_path, monkeypatch):
    """Text UTF-8 cannot hold (undecodable bytes, a lone surrogate escape) in a column or key the spec does not
    know used to stop the ingest when its row was written; the row is quarantined, naming the field."""
    write(tmp_path / "data", "sendgrid/events/a.jsonl",
          json.dumps(sg()).encode() + b'\n' + json.dumps(sg(sg_event_id="e2"))[:-1].encode() + b', "note": "\\udc00"}\n')
    write(tmp_path / "data", "hubspot/contacts/c.csv", (
        b"Record ID,Email,Create Date,Last Modified Date,Note\r\n"
        b"1,ana@example.com,2026-08-01,2026-08-01,fine\r\n"
        b"2,bo@example.com,2026-08-01,2026-08-01,caf\xff\r\n"
    ))
    con = load_alike(tmp_path / "data", tmp_path, monkeypatch)
    assert sorted(con.execute("select file, row_number, field, reason from f.raw.quarantine").fetchall()) == [
        ("hubspot/contacts/c.csv", 2, "Note", "invalid UTF-8 in field 'Note'"),
        ("sendgrid/events/a.jsonl", 2, "note", "invalid UTF-8 in field 'note'"),
    ]
    assert con.execute("select count(*) from f.raw.sendgrid__events").fetchone()[0] == 1


AWKWARD_CSV = (
    "\ufeffRecord ID,Email,Create Date,Last Modified Date,Marketing emails bounced,Note,Unknown Column\r\n"
    "1,ana@example.com,2026-08-01 10:00,2026-08-01T10:00:00Z,0,plain,x\r\n"
    "\r\n"                                                           # blank: no record
    ",, ,\t,,\u3000,\r\n"                                            # blank too (Python's whitespace)
    '2,"bo@example.com",2026-08-01,2026-08-01,"1","a, quoted comma",""\r\n'   # quotes: Python's reader
    "3,cy@example.com,2026-08-01,2026-08-01,0,too,many,fields\r\n"  # quarantined: 8 fields
    "4,dee@example.com,yesterday,2026-08-01,0,,\r\n"                 # quarantined: the date
    "5,eve@example.com,2026-08-01,2026-08-01,0,caf\xe9 \u2603,back\\slash\r\n"  # escaped in _extra by Python
    '6,fay@example.com,2026-08-01,2026-08-01,0,,"say ""hi"""\r\n'
    "7,Gus@Ex\xe4mple.com,2026-08-01,2026-08-01,0,idn,\r\n"          # normalised by Python, once
    "8,hal@example.com,2026-08-01,2026-08-01,0,short\n"               # quarantined: 6 fields
).encode() + b"9,jo\xff@example.com,2026-08-01,2026-08-01,0,bad byte,\r\n"  # quarantined: not UTF-8


@pytest.mark.parametrize(("tail", "by_line"), [
    (b"", True),
    (b"10,ida@example.com,2026-08-01,2026-08-01,0,last,no newline", True),
    (b'10,ida@example.com,2026-08-01,2026-08-01,0,"two\nlines",\n', False),  # a record over two lines
    (b"10,ida@example.com,2026-08-01,2026-08-01,0,carriage\rreturn,\r\n", False),  # a bare CR ends a line
])
def test_csv_lines_are_cut_by_duckdb_as_pythons_reader_cuts_them(tmp_path, monkeypatch, tail, by_line):
    """A CSV file's plain lines are cut into fields by DuckDB (fast_path.load_csv_lines), the others by Python's
    reader one line at a time; both paths load, number and quarantine the same records, with the same `_extra`.
    A line that is not a whole record (a quoted newline, a bare carriage return) has the whole file read again
    by Python's reader."""
    write(tmp_path / "data", "hubspot/contacts/c.csv", AWKWARD_CSV + tail)
    monkeypatch.setattr(fast_path, "MIN_BYTES", 0)
    cut = []
    original = fast_path.load_csv_lines

    def spy(*args, **kwargs):
        try:
            original(*args, **kwargs)
        except fast_path.Unsupported:
            cut.append("again")
            raise
        cut.append("by line")

    monkeypatch.setattr(fast_path, "load_csv_lines", spy)
    monkeypatch.setenv("LIST_HYGIENE_INGEST_WORKERS", "1")
    con = load_alike(tmp_path / "data", tmp_path, monkeypatch)
    assert cut == ["by line" if by_line else "again"]
    assert con.execute("select row_number, field, reason from f.raw.quarantine order by 1").fetchall()[:4] == [
        (3, None, "expected 7 fields, found 8"),
        (4, "create_date", "unparsable datetime in field 'Create Date': 'yesterday'"),
        (8, None, "expected 7 fields, found 6"),
        (9, "email", "invalid UTF-8 in field 'Email'"),
    ]
    rows = dict(con.execute("select record_id, _row from f.raw.hubspot__contacts").fetchall())
    assert {k: rows[k] for k in "12567"} == {"1": 1, "2": 2, "5": 5, "6": 6, "7": 7}
    extra = dict(con.execute("select record_id, _extra from f.raw.hubspot__contacts").fetchall())
    assert (extra["1"], extra["5"], extra["6"]) == (
        '{"Note": "plain", "Unknown Column": "x"}', '{"Note": "caf\u00e9 \u2603", "Unknown Column": "back\\\\slash"}',
        '{"Unknown Column": "say \\"hi\\""}')
