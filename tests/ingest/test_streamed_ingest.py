"""The loader streams big `.json` files (json_stream.py) and lands exactly what parsing them whole lands.

conftest.py streams every `.json` file on the Python path and on the workers; here the stream and
json.loads load the same folders side by side (on each of conftest's paths) and are compared row for row,
and a stream that fails after rows were loaded must leave nothing of its partial read behind.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from test_fast_path import differences, load_pair

from list_hygiene.ingest import json_stream, loader
from list_hygiene.ingest.loader import IngestReport
from list_hygiene.ingest.specs import SPECS

LOADED_AT = datetime(2026, 11, 25, 12)


@pytest.fixture
def streamed(monkeypatch) -> list[str]:
    """The files this process streamed (the workers stream in their own processes; their rows still count)."""
    seen: list[str] = []
    real = json_stream.stream_documents

    def spy(path, spec):
        docs = real(path, spec)
        if docs is not None:
            seen.append(path.name)
        return docs

    monkeypatch.setattr(json_stream, "stream_documents", spy)
    return seen


def load_both(data: Path, tmp_path: Path, monkeypatch) -> tuple[duckdb.DuckDBPyConnection, IngestReport]:
    """`f`: big `.json` files streamed, `p`: every file parsed whole; returns the streamed run's report."""
    monkeypatch.setattr(json_stream, "STREAM_BYTES", 0)
    return load_pair(data, tmp_path, lambda name: monkeypatch.setattr(loader, "STREAM", name == "f"))


def write(base: Path, rel: str, text: str) -> None:
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def mailgun_page(n: int, last: str | None = None, after: str = "") -> str:
    items = [json.dumps({"id": f"ev{i}", "event": "delivered", "timestamp": 1785563430.5 + i,
                         "recipient": f"user{i}@example.com", "message": {"headers": {"message-id": f"m{i}@x"}}})
             for i in range(n)]
    if last is not None:
        items.append(last)
    return '{"items": [' + ",\n".join(items) + '], "paging": {"next": "https://api.mailgun.net/v3/x/events/n"}}' + after


def test_bundled_samples_land_identically_streamed(samples_dir, tmp_path, monkeypatch, streamed, ingest_path):
    con, report = load_both(samples_dir, tmp_path, monkeypatch)
    if ingest_path != "workers":
        stream_specs = {(s.platform, s.entity) for s in SPECS.values() if s.stream_key}
        whole_json = {p.name for (platform, entity) in stream_specs
                      for p in (samples_dir / platform / entity).glob("*.json")}
        assert whole_json and whole_json <= set(streamed)  # every whole-page export of a streamed spec
    assert con.execute("select count(*) from f.raw.mailgun__events").fetchone()[0] > 100
    assert differences(con) == []
    assert report.rows_quarantined == con.execute("select count(*) from p.raw.quarantine").fetchone()[0]


N_LATE = 16_000


@pytest.mark.parametrize("case, status", [
    ("nan_last", "loaded"),  # json.loads reads NaN, yajl does not: the whole parse quarantines that one row
    ("garbage_after", "failed"),  # invalid JSON found after 16,000 rows were loaded: the file fails whole
    ("not_object_last", "loaded"),  # a non-object element is quarantined, as from a whole parse
])
def test_a_stream_that_fails_late_leaves_only_the_whole_parse(tmp_path, monkeypatch, case, status):
    last = {"nan_last": '{"id": "evN", "event": "failed", "severity": "permanent", "timestamp": NaN, '
                        '"recipient": "nan@example.com"}',
            "garbage_after": None, "not_object_last": '"just a string"'}[case]
    after = " x" if case == "garbage_after" else ""
    data = tmp_path / "data"
    write(data, "mailgun/events/page.json", mailgun_page(N_LATE, last, after))
    assert (data / "mailgun/events/page.json").stat().st_size > 2 * json_stream.CHUNK_BYTES  # found late
    con, report = load_both(data, tmp_path, monkeypatch)
    assert differences(con) == []
    (result,) = report.files
    assert result.status == status
    loaded = con.execute("select count(*) from f.raw.mailgun__events").fetchone()[0]
    assert loaded == {"loaded": N_LATE, "failed": 0}[status]
    quarantined = con.execute("select field, reason from f.raw.quarantine").fetchall()
    if case == "nan_last":
        assert [f for f, _ in quarantined] == ["timestamp"]
    elif case == "garbage_after":
        assert len(quarantined) == 1 and "not valid JSON" in quarantined[0][1]
    elif case == "not_object_last":
        assert quarantined == [(None, "record is not a JSON object")]


def test_deep_nesting_and_huge_integers_are_rejected_with_a_reason(tmp_path, monkeypatch):
    """json.loads' own limits (recursion, Python's int string length) fail the file or quarantine the line,
    instead of crashing the ingest."""
    data = tmp_path / "data"
    write(data, "mailgun/events/deep.json", '{"items": ' + "[" * 5000 + "]" * 5000 + "}")
    write(data, "mailgun/events/bigint.json", '[{"id": "e1", "timestamp": ' + "9" * 5000 + "}]")
    good = json.dumps({"email": "a@example.com", "timestamp": 1785686419, "event": "delivered", "sg_event_id": "g1"})
    write(data, "sendgrid/events/lines.jsonl", "\n".join([
        good, '{"email": "b@example.com", "n": ' + "[" * 5000 + "]" * 5000 + "}", '{"timestamp": ' + "7" * 5000 + "}"]))
    con, report = load_both(data, tmp_path, monkeypatch)
    assert differences(con) == []
    by_path = {f.path: f for f in report.files}
    assert by_path["mailgun/events/deep.json"].status == "failed"
    assert "nested too deeply" in by_path["mailgun/events/deep.json"].error
    assert by_path["mailgun/events/bigint.json"].status == "failed"
    assert "digits" in by_path["mailgun/events/bigint.json"].error
    lines = by_path["sendgrid/events/lines.jsonl"]
    assert (lines.status, lines.rows_loaded, lines.rows_quarantined) == ("loaded", 1, 2)
    reasons = [r for (r,) in con.execute(
        "select reason from f.raw.quarantine where file = 'sendgrid/events/lines.jsonl' order by row_number").fetchall()]
    assert reasons[0] == "unreadable JSON: nested too deeply" and "digits" in reasons[1]


def test_streamed_records_reach_the_sink_as_they_are_read(tmp_path):
    """The records of a streamed document are not collected first (that would hold the whole file again):
    the first record is in the sink before the stream's second element is read."""
    spec = SPECS[("mailgun", "events")]
    con = duckdb.connect()
    loader.ensure_raw_schema(con)
    sink = loader._Sink(con, spec, "file", "page.json", LOADED_AT)
    added_before_second: list[int] = []

    def elements():
        yield {"id": "e1", "event": "delivered", "timestamp": 1785563430, "recipient": "a@example.com"}
        added_before_second.append(len(sink.rows))
        yield {"id": "e2", "event": "delivered", "timestamp": 1785563431, "recipient": "b@example.com"}

    doc = json_stream.StreamedDocument("items", elements())
    loader._json_document(0, doc, spec, sink, {}, {f.source.split(".")[0] for f in spec.fields})
    sink.flush()
    assert added_before_second == [1]
    assert sink.loaded == 2
