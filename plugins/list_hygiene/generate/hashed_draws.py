"""SHA-256 keyed draws and ids for the extra connectors, computed column-wise by DuckDB.

writers_more's outputs are keyed by `sha256("seed|key|key...")` (draws) and `sha256("id|seed|key...")` (ids), as
hashlib would compute them one Python call at a time. DuckDB's `sha256` gives the same digests for a whole column in
one query, keys included (about 0.35 us a key, against 2.7 us for building the key and hashing it in Python), so the
bytes do not change. Keys are written by DuckDB's integer-to-text cast, which prints integers like Python's `str`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .text_columns import connect

Part = str | int | np.ndarray | pa.Array

BATCH_ROWS = 131_072  # record batches of the input table: DuckDB scans batches in parallel


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class HashedDraws:
    """One DuckDB connection hashing key columns for one `generate` call."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.con = connect()

    def close(self) -> None:
        self.con.close()

    def _digests(self, parts: tuple[Part, ...], select: str) -> pa.ChunkedArray:
        """Run `select` (with `h` = hex digest of the key) over the key columns; constants go into the SQL."""
        cols: dict[str, pa.Array | np.ndarray] = {}
        pieces: list[str] = []
        text = ""
        for k, p in enumerate(parts):
            sep = "|" if k else ""
            if isinstance(p, str | int):
                text += sep + str(p)
                continue
            text += sep
            pieces.append(_sql_text(text))
            text = ""
            name = f"c{len(cols)}"
            cols[name] = p
            pieces.append(name)
        if text:
            pieces.append(_sql_text(text))
        if not cols:
            raise ValueError("a hashed key needs at least one column")
        n = len(next(iter(cols.values())))
        if n == 0:
            return pa.chunked_array([], pa.string())
        tbl = pa.table(cols)
        tbl = pa.Table.from_batches(tbl.to_batches(max_chunksize=BATCH_ROWS))
        self.con.register("keys", tbl)
        try:
            sql = f"SELECT {select} AS v FROM (SELECT sha256(concat({', '.join(pieces)})) AS h FROM keys)"
            return self.con.sql(sql).to_arrow_table().column("v")
        finally:
            self.con.unregister("keys")

    def uniform(self, *parts: Part) -> np.ndarray:
        """`int.from_bytes(sha256("seed|parts").digest()[:8], "big") / 2**64` for every row (float64)."""
        if _empty(parts):
            return np.zeros(0)
        v = self._digests((self.seed, *parts), "('0x' || left(h, 16))::UBIGINT").to_numpy()
        # uint64 -> float64 rounds to nearest like Python's int / int, and dividing by 2**64 is exact
        return v.astype(np.float64) / float(1 << 64)

    def hex_u64(self, *parts: Part) -> np.ndarray:
        """The first 16 hex digits of `sha256("id|seed|parts")` as uint64."""
        if _empty(parts):
            return np.zeros(0, dtype=np.uint64)
        return self._digests(("id", self.seed, *parts), "('0x' || left(h, 16))::UBIGINT").to_numpy()

    def hex(self, *parts: Part, n: int = 32) -> pa.Array:
        """`sha256("id|seed|parts").hexdigest()[:n]` for every row."""
        if _empty(parts):
            return pa.array([], pa.string())
        return self._digests(("id", self.seed, *parts), f"left(h, {int(n)})").combine_chunks()

    def b64_id(self, *parts: Part) -> pa.Array:
        """`urlsafe_b64encode(bytes.fromhex(hex(parts, n=32))).decode()[:22]` for every row."""
        if _empty(parts):
            return pa.array([], pa.string())
        select = "left(replace(replace(to_base64(unhex(left(h, 32))), '+', '-'), '/', '_'), 22)"
        return self._digests(("id", self.seed, *parts), select).combine_chunks()


def _empty(parts: tuple[Part, ...]) -> bool:
    return any(not isinstance(p, str | int) and len(p) == 0 for p in parts)
