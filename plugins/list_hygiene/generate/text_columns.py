"""Column-wise text for the writers: fixed-width numbers and times from numpy, lines from DuckDB, no per-row Python.

Formatting is done once per distinct value where values repeat (emails, days, campaign names: Arrow dictionary
columns that DuckDB reads without copying), and per row with numpy byte arithmetic where they do not (hex ids,
zero-padded numbers, ISO times). DuckDB then concatenates the pieces of every line in one SQL pass, and the writers
copy its Arrow string buffers straight to the files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .output_files import OutputFile

DAY = 86_400
_NEEDS_ESCAPE = r'["\\]|[^\x20-\x7e]'  # what json.dumps (ensure_ascii) escapes


def json_quoted(items: list[str]) -> pa.Array:
    """JSON string literals (quoted, escaped) for a list of strings."""
    arr = pa.array(items, pa.string())
    if not pc.any(pc.match_substring_regex(arr, _NEEDS_ESCAPE)).as_py():  # the common case, and much faster
        return pc.binary_join_element_wise('"', arr, '"', "")
    return pa.array([json.dumps(i) for i in items], pa.string())


def json_escaped(quoted: pa.Array) -> pa.Array:
    """JSON string literals (json_quoted's output: printable ASCII) escaped once more, to print inside a JSON string
    (json_sql.escaped_sql)."""
    return pc.replace_substring(pc.replace_substring(quoted, "\\", "\\\\"), '"', '\\"')


def csv_quoted(items: list[str] | pa.Array, always: bool = False, specials: str = ',"\n') -> pa.Array:
    """Each string as csv.writer(lineterminator="\\n") (QUOTE_MINIMAL) writes a field that is not alone on its row.

    `always`: quote every non-empty value; `specials`: the characters that force quotes otherwise.
    """
    arr = items if isinstance(items, pa.Array) else pa.array(items, pa.string())
    need = pc.not_equal(arr, "") if always else pc.match_substring_regex(arr, "[" + specials + "]")
    if not always and not pc.any(need).as_py():
        return arr
    return pc.if_else(need, pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', ""), arr)


# two ASCII characters per byte value, as one native uint16: a table lookup writes both at once
_HEX = {upper: np.frombuffer("".join(f"{i:02X}" if upper else f"{i:02x}" for i in range(256)).encode(), dtype=np.uint16)
        for upper in (False, True)}
_DEC2 = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint16)


def fixed_strings(chars: np.ndarray) -> pa.StringArray:
    """An (n, w) uint8 array of ASCII characters -> an Arrow string array of n strings of width w, no Python loop.

    The Arrow array uses the numpy array's memory (no copy).
    """
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).reshape(-1)))


def hex_col(x: np.ndarray, upper: bool = False, first: int = 0, last: int = 8) -> pa.StringArray:
    """Hex of bytes [first, last) of big-endian uint64 values: format('{:016x}') for the whole, vectorised."""
    b = np.asarray(x, dtype=">u8").view(np.uint8).reshape(-1, 8)[:, first:last]
    return fixed_strings(_HEX[upper][b].view(np.uint8))


def hex_digits(x: np.ndarray) -> np.ndarray:
    """The characters of format('{:016x}') of uint64 values, as an (n, 16) uint8 array (to slice and compose)."""
    return _HEX[False][np.asarray(x, dtype=">u8").view(np.uint8).reshape(-1, 8)].view(np.uint8)


def composed(n: int, pieces: list[bytes | np.ndarray]) -> pa.StringArray:
    """n fixed-width strings, each the pieces side by side: literal bytes, or (n, w) uint8 arrays of characters.

    An id cut from hex digits and dashes is one column here, instead of a dozen substr() and literal arguments
    to DuckDB's concat for every row.
    """
    out = np.empty((n, sum(p.shape[1] if isinstance(p, np.ndarray) else len(p) for p in pieces)), dtype=np.uint8)
    col = 0
    for p in pieces:
        w = p.shape[1] if isinstance(p, np.ndarray) else len(p)
        out[:, col:col + w] = p if isinstance(p, np.ndarray) else np.frombuffer(p, dtype=np.uint8)
        col += w
    return fixed_strings(out)


def put_digits(out: np.ndarray, col: int, v: np.ndarray, width: int) -> None:
    """Write `width` zero-padded decimal digits of v into columns [col, col + width) of an (n, w) uint8 array.

    Two digits per step (a table lookup), from the right; an odd width ends with one digit.
    """
    for k in range(width // 2):
        a = col + width - 2 * k - 2
        out[:, a:a + 2] = _DEC2[v % 100].view(np.uint8).reshape(-1, 2)
        v = v // 100
    if width % 2:
        out[:, col] = v % 10 + 48


def dec_col(x: np.ndarray, width: int) -> pa.StringArray:
    """Zero-padded decimal of non-negative integers: format('{:0{width}d}'), vectorised."""
    out = np.empty((len(x), width), dtype=np.uint8)
    put_digits(out, 0, np.asarray(x, dtype=np.int64), width)
    return fixed_strings(out)


def day_strings(days: np.ndarray, fmt: str = "%Y-%m-%d") -> tuple[list[str], np.ndarray]:
    """The distinct days (day numbers since 1970-01-01) formatted with strftime, and each row's index into them."""
    uniq, inv = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    epoch = dt.date(1970, 1, 1)
    return [(epoch + dt.timedelta(days=int(d))).strftime(fmt) for d in uniq.tolist()], inv.reshape(-1)


def iso_col(ts: np.ndarray, ms: np.ndarray | None = None, suffix: str = "Z", sep: str = "T",
            prefix: str = "") -> pa.StringArray:
    """Unix seconds (+ milliseconds) -> '<prefix>YYYY-MM-DD<sep>HH:MM:SS[.mmm]<suffix>' (UTC), vectorised."""
    ts = np.asarray(ts, dtype=np.int64)
    days = ts // DAY
    # the calendar part repeats: format each day once, indexed by its offset from the first (no sort) unless the
    # days are spread wide for the rows (a strftime costs about as much as sorting 16 rows)
    lo, hi = (int(days.min()), int(days.max())) if len(days) else (0, -1)
    if 0 <= hi - lo < len(days) // 16:
        names, inv = day_strings(np.arange(lo, hi + 1))[0], days - lo
    else:
        names, inv = day_strings(days)
    p = len(prefix)
    dates = np.frombuffer("".join(prefix + d + sep for d in names).encode(), dtype=np.uint8).reshape(len(names), p + 11)
    head = "" if ms is None else ".000"
    width = p + 11 + 8 + len(head) + len(suffix)
    out = np.empty((len(ts), width), dtype=np.uint8)
    out[:, :p + 11] = dates[inv]
    sec = ts - days * DAY
    put_digits(out, p + 11, sec // 3600, 2)
    out[:, p + 13] = ord(":")
    put_digits(out, p + 14, sec // 60 % 60, 2)
    out[:, p + 16] = ord(":")
    put_digits(out, p + 17, sec % 60, 2)
    if ms is not None:
        out[:, p + 19] = ord(".")
        put_digits(out, p + 20, np.asarray(ms, dtype=np.int64), 3)
    out[:, width - len(suffix):] = np.frombuffer(suffix.encode(), dtype=np.uint8)
    return fixed_strings(out)


def fixed_width_bytes(arr: pa.Array, width: int) -> np.ndarray:
    """A string array whose values all have `width` bytes, as a numpy bytes array (sortable, no Python objects)."""
    if len(arr) == 0:
        return np.zeros(0, dtype=f"S{width}")
    arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
    start = int(np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:start + len(arr) * width]
    return data.view(f"S{width}")


def dict_col(values: pa.Array | list[str], indices: np.ndarray) -> pa.DictionaryArray:
    """values[indices] without copying the strings (DuckDB reads Arrow dictionaries directly)."""
    if not isinstance(values, pa.Array):
        values = pa.array(values, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(indices, dtype=np.int32)), values)


_DB: list[duckdb.DuckDBPyConnection] = []
_DB_LOCK = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A cursor on one in-memory DuckDB shared by the writers (a cursor costs microseconds, a database 15 ms).

    Each caller closes its cursor; cursors may be used from different threads at the same time.
    """
    with _DB_LOCK:
        if not _DB:
            _DB.append(duckdb.connect())
        con = _DB[0].cursor()
    con.execute("SET preserve_insertion_order = true")  # rows come out in the (sorted) order they went in
    con.execute("SET arrow_large_buffer_size = true")
    return con


class Lines:
    """The `line` column of a query result, kept in DuckDB's Arrow chunks (no concatenating copy)."""

    def __init__(self, col: pa.ChunkedArray) -> None:
        self.col = col
        self.parts: list[tuple[memoryview, np.ndarray]] = []
        starts = [0]
        for ch in col.chunks:
            if len(ch) == 0:
                continue
            if ch.type != pa.large_string():
                ch = ch.cast(pa.large_string())
            bufs = ch.buffers()
            self.parts.append((memoryview(bufs[2]), np.frombuffer(bufs[1], dtype=np.int64)[ch.offset:ch.offset + len(ch) + 1]))
            starts.append(starts[-1] + len(ch))
        self.starts = np.array(starts, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def write(self, fh: OutputFile | io.BytesIO, lo: int, hi: int, trim_last: int = 0) -> None:
        """Write rows [lo, hi), dropping `trim_last` bytes from the end of the last one."""
        while lo < hi:
            k = int(np.searchsorted(self.starts, lo, side="right")) - 1
            data, off = self.parts[k]
            end = min(hi, int(self.starts[k + 1]))
            a, z = int(off[lo - self.starts[k]]), int(off[end - self.starts[k]])
            fh.write(data[a:z - (trim_last if end == hi else 0)])
            lo = end

    def row(self, i: int) -> bytes:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        data, off = self.parts[k]
        j = i - int(self.starts[k])
        return bytes(data[int(off[j]):int(off[j + 1])])

    def write_ordered(self, fh: OutputFile | io.BytesIO, order: np.ndarray | None) -> None:
        """Write every row in `order` (a permutation; None: as they are), a run of consecutive rows per write.

        The orders used differ from the identity only in a few places, so this costs no reordered copy of the lines.
        """
        if order is None:
            self.write(fh, 0, len(self))
            return
        breaks = np.flatnonzero(np.diff(order) != 1) + 1
        firsts, lasts = order[np.r_[0, breaks]], order[np.r_[breaks, len(order)] - 1]
        for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True):
            self.write(fh, a, b + 1)

    def joined(self, trim_last: int = 0) -> bytes:
        """All rows as one bytes object, dropping `trim_last` bytes from the end of the last one."""
        buf = io.BytesIO()
        self.write(buf, 0, len(self), trim_last)
        return buf.getvalue()


def query_lines(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[np.ndarray, Lines]:
    """Run a query returning (ts, line): the ts array and the lines."""
    tbl = con.sql(sql).to_arrow_table()
    return tbl.column("ts").to_numpy(), Lines(tbl.column("line"))


RESULT_ROWS = 8192  # rows per streamed result batch (about 3-8 MB of lines)


def stream_lines(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[tuple[np.ndarray, Lines]]:
    """Run a query returning (ts, line) and yield its result a batch of RESULT_ROWS rows at a time, in order.

    For the big event files: a whole result's lines (hundreds of MB) would be fresh memory, paid for by a page fault
    every 4 KB, while small batches written and dropped one after the other reuse the same few megabytes.
    """
    for batch in con.sql(sql).to_arrow_reader(RESULT_ROWS):
        if batch.num_rows:
            yield batch.column("ts").to_numpy(), Lines(pa.chunked_array([batch.column("line")]))


def ties_like_python(ts: np.ndarray, lines: Lines) -> np.ndarray | None:
    """The order `sorted(key=(ts, json.dumps(doc, sort_keys=True)))` gives lines already sorted by ts alone.

    Rows with equal ts are few; only they are parsed back and compared the way Python compared the documents.
    Returns a permutation, or None when no two rows share a ts (the order is already right).
    """
    if len(ts) < 2:
        return None
    same = np.nonzero(ts[1:] == ts[:-1])[0]
    if not len(same):
        return None
    order = np.arange(len(ts))
    starts = same[np.r_[True, same[1:] != same[:-1] + 1]]
    for a in starts.tolist():
        b = a + 1
        while b < len(ts) and ts[b] == ts[a]:
            b += 1
        keys = [json.dumps(json.loads(lines.row(i)), sort_keys=True) for i in range(a, b)]
        order[a:b] = a + np.array(sorted(range(b - a), key=keys.__getitem__))
    return order
