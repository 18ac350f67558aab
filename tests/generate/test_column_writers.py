"""The column-wise building blocks of the generator give exactly what the standard library gives row by row.

The writers promise "same arguments, same bytes"; these tests pin each shortcut they take (the vectorised key hash
for its row-by-row formula, SQL-printed JSON for json.dumps, jumped-ahead draws for a full random array, chunked
output for one pass) to the plain Python it replaces.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from gen_helpers import file_digests

import list_hygiene.generate as gen
from list_hygiene.generate import generate
from list_hygiene.generate.hashed_draws import HashedDraws
from list_hygiene.generate.json_sql import Sql, Str, json_sql
from list_hygiene.generate.model import time_order
from list_hygiene.generate.send_draws import SendDraws
from list_hygiene.generate.text_columns import connect, csv_quoted, iso_col, json_quoted

_M = (1 << 64) - 1


def _mix(z: int) -> int:  # splitmix64's finaliser on Python ints: the reference for the vectorised one
    z = (z + 0x9E3779B97F4A7C15) & _M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
    return z ^ (z >> 31)


def _key(*parts: str | int) -> int:
    """The documented key hash, one row at a time: fold each part's value with h = mix(h ^ v)."""
    h = 0
    for p in parts:
        v = int.from_bytes(hashlib.blake2b(p.encode(), digest_size=8).digest(), "big") if isinstance(p, str) else p & _M
        h = _mix(h ^ v)
    return h


def test_hashed_draws_match_the_row_by_row_hash() -> None:
    draws = HashedDraws(7)
    i = np.array([0, 1, 9, 10, 99_999, 1_234_567])
    assert draws.uniform("zoho", 20_300, i, 4).tolist() == [(_key(7, "zoho", 20_300, k, 4) >> 11) / 2**53
                                                            for k in i.tolist()]
    assert draws.hex_u64("pm-bounce", i).tolist() == [_key("id", 7, "pm-bounce", k) for k in i.tolist()]
    first = [_key("id", 7, "pm-msg", 20_300, k) for k in i.tolist()]
    assert draws.hex("pm-msg", 20_300, i, n=16).to_pylist() == [f"{h:016x}" for h in first]
    long = draws.hex("pm-msg", 20_300, i, n=50).to_pylist()
    assert [x[:16] for x in long] == [f"{h:016x}" for h in first]  # the first word leads, more words follow
    assert all(len(x) == 50 and int(x, 16) >= 0 for x in long) and len(set(x[16:] for x in long)) == len(i)
    names = pa.array(["accepted", "opened", "failed", "a'quote", "x", "y"])
    ids = draws.b64_id("mg", names, i).to_pylist()
    # the first 10 characters are the first word's top 60 bits in URL-safe base64
    assert [base64.urlsafe_b64decode(x[:8] + "==")[:6] for x in ids] == [
        _key("id", 7, "mg", n, k).to_bytes(8, "big")[:6] for n, k in zip(names.to_pylist(), i.tolist(), strict=True)]
    assert all(len(x) == 22 and set(x) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for x in ids)
    assert draws.uniform("zoho", np.zeros(0, dtype=np.int64)).size == 0
    assert draws.hex("x", np.zeros(0, dtype=np.int64)).to_pylist() == []
    with pytest.raises(ValueError, match="at least one column"):
        draws.uniform("zoho", 1, 2)
    with pytest.raises(ValueError, match="nulls"):
        draws.uniform("zoho", pa.array(["a", None]))


def test_hashed_draws_key_columns_and_spread() -> None:
    draws = HashedDraws(7)
    texts = ["failed", "opened", "failed", "accepted"]
    plain = draws.uniform("mg", pa.array(texts), np.arange(4))
    dictionary = pa.DictionaryArray.from_arrays(pa.array([2, 1, 2, 0], pa.int32()), pa.array(["accepted", "opened", "failed"]))
    assert draws.uniform("mg", dictionary, np.arange(4)).tolist() == plain.tolist()
    assert draws.uniform("mg", pa.chunked_array([texts[:1], texts[1:]]), np.arange(4)).tolist() == plain.tolist()
    assert plain.tolist() == [(_key(7, "mg", t, k) >> 11) / 2**53 for k, t in enumerate(texts)]
    # another seed, another constant, the parts in another order: other numbers
    c = np.arange(200_000)
    u = draws.uniform("zoho", 20_300, c, 4)
    for other in (HashedDraws(8).uniform("zoho", 20_300, c, 4), draws.uniform("zoho", 20_300, c, 5),
                  draws.uniform("zoho", c, 20_300, 4), draws.uniform("sfmc", 20_300, c, 4)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.01 and not np.array_equal(u, other)
    # uniform: every tenth holds its share, and consecutive contacts are not correlated
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 20_000) < 600)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    assert len(np.unique(draws.hex_u64("pm", c))) == len(c)


@pytest.mark.parametrize("indent", [None, 1, 2])
def test_json_sql_prints_like_json_dumps(indent: int | None) -> None:
    row = {"n": 12, "name": 'He said "hi"\\', "hexid": "00ff", "flag": True}
    doc = {"id": Sql("n"), "name": Sql("name_j"), "empty": {}, "none": [], "null": None, "f": 0.5, "b": Sql("flag::VARCHAR"),
           "nested": {"list": [1, "two", {"three": Str("hexid")}], "uni": "caf\u00e9"}, "last": False}
    expected = json.loads(json.dumps(doc, default=lambda _: None))  # the shape, with the markers' values below
    expected.update({"id": row["n"], "name": row["name"], "b": row["flag"]})
    expected["nested"]["list"][2]["three"] = row["hexid"]
    con = connect()
    try:
        con.register("t", pa.table({"n": [row["n"]], "name_j": json_quoted([row["name"]]), "hexid": [row["hexid"]],
                                    "flag": [row["flag"]]}))
        got = con.sql(f"SELECT {json_sql(doc, indent)} AS j FROM t").to_arrow_table().column("j")[0].as_py()
    finally:
        con.close()
    assert got == json.dumps(expected, indent=indent)


def test_quoting_helpers_match_the_standard_library() -> None:
    items = ["a", "", "a,b", 'q"x', "line\nx", "cr\rx", " sp ", "tab\t", "caf\u00e9", "\x7f"]
    for v, got in zip(items, csv_quoted(items).to_pylist(), strict=True):
        b = io.StringIO()
        csv.writer(b, lineterminator="\n").writerow(["x", v])
        assert "x," + got + "\n" == b.getvalue()
    assert json_quoted(items).to_pylist() == [json.dumps(v) for v in items]


def test_iso_col_matches_strftime() -> None:
    ts = np.array([0, 59, 86_399, 1_785_000_000, 1_785_086_399, 4_102_444_800])
    ms = np.array([0, 1, 999, 397, 40, 5])
    want = [dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{m:03d}Z"
            for t, m in zip(ts.tolist(), ms.tolist(), strict=True)]
    assert iso_col(ts, ms).to_pylist() == want
    assert iso_col(ts, sep=" ", suffix='"', prefix='"').to_pylist() == [
        '"' + dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + '"' for t in ts.tolist()]


def test_send_draws_are_the_full_array() -> None:
    key, n = [7, 1234, 5678, 4000], 4000
    full = np.random.default_rng(key).random((9, n))
    u = SendDraws(key, n)
    few = np.array([3999, 0, 17, 17, 2500])  # read where they are, duplicates included
    many = np.arange(0, n, 3)  # the whole row is generated
    for row in (8, 0, 5, 8):
        assert (u(row, few) == full[row][few]).all()
        assert (u(row, many) == full[row][many]).all()


def test_time_order_is_lexsort() -> None:
    rng = np.random.default_rng(0)
    for n, span in ((1, 0), (500, 3), (20_000, 2_000)):
        ts = rng.integers(1_780_000_000, 1_780_000_000 + span + 1, n)
        eid = rng.integers(0, 2**63, n).astype(np.uint64)
        eid[: n // 4] &= np.uint64(0xFFFF)  # ids that differ only in their low bits
        eid[n // 4: n // 2] = eid[: n // 4]  # equal ids
        order = time_order(ts, eid)
        assert (order == np.lexsort((eid, ts))).all()


def test_chunked_and_threaded_output_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks (many queries per file), small result batches, one writer thread and the platforms simulated
    one after the other on one thread give the bytes of the default run."""
    import list_hygiene.generate.model as model
    import list_hygiene.generate.text_columns as text_columns
    import list_hygiene.generate.writers_mailgun as mailgun
    import list_hygiene.generate.writers_sendgrid as sendgrid
    import list_hygiene.generate.writers_ses as ses

    kw = {"contacts": 400, "days": 20, "start": dt.date(2026, 9, 1), "seed": 4}
    generate(tmp_path / "default", **kw)
    monkeypatch.setattr(sendgrid, "CHUNK_EVENTS", 300)
    monkeypatch.setattr(ses, "CHUNK_EVENTS", 111)
    monkeypatch.setattr(mailgun, "CHUNK_ROWS", 40)
    monkeypatch.setattr(text_columns, "RESULT_ROWS", 7)
    monkeypatch.setattr(gen, "WORKERS", 1)
    monkeypatch.setattr(model, "SIMULATION_THREADS", 1)
    generate(tmp_path / "chunked", **kw)
    assert file_digests(tmp_path / "default") == file_digests(tmp_path / "chunked")
