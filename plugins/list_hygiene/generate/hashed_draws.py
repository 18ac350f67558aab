"""Keyed draws and ids for the extra connectors, computed column-wise with splitmix64 in NumPy.

writers_more's outputs are functions of a key: `uniform("zoho", send, contact, 4)` is the same number whatever else
is drawn, in whatever order, so a contact's outcomes do not depend on the window or on the other contacts. A key is a
sequence of parts: constants (text or integers) and columns (integer arrays, Arrow string or dictionary arrays).
The hash folds the seed, then each part in order: `h = mix64(h ^ v)`, where v is an integer's value (as uint64) or
the first 8 bytes of a text's BLAKE2b digest (`part_value`). Draws and ids are keyed apart (ids start with the text
"id"). Until 28 Nov 2026 the same keys went through SHA-256 of the joined text ("seed|part|..."), in DuckDB: 0.35-0.43
us a key, 12.8 of the generator's ~82 CPU seconds at 1 M contacts; this costs a few tens of nanoseconds a key.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .model import mix64
from .text_columns import fixed_strings, hex_digits

Part = str | int | np.ndarray | pa.Array | pa.ChunkedArray

_B64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_WORD = 0xD6E8FEB86659FD93  # keys the extra 64-bit words of a long id apart from the first
_MASK64 = (1 << 64) - 1


def part_value(p: str | int) -> int:
    """A constant part as the 64-bit value the hash folds in: an integer itself, a text its BLAKE2b-64 digest."""
    if isinstance(p, str):
        return int.from_bytes(hashlib.blake2b(p.encode(), digest_size=8).digest(), "big")
    return int(p) & _MASK64


def _column_values(p: np.ndarray | pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(p, np.ndarray):
        return p.astype(np.uint64)  # negative integers wrap, as part_value's mask does
    if isinstance(p, pa.ChunkedArray):
        p = p.combine_chunks()
    if not pa.types.is_dictionary(p.type):
        p = pc.dictionary_encode(p)
    if p.null_count:
        raise ValueError("a key column has nulls")
    words = np.array([part_value(s) for s in p.dictionary.to_pylist()], dtype=np.uint64)
    return words[p.indices.to_numpy(zero_copy_only=False)]


class HashedDraws:
    """The keyed draws and ids of one `generate` call (its seed)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _hash(self, parts: tuple[Part, ...]) -> np.ndarray:
        h: np.uint64 | np.ndarray = np.uint64(0)
        columns = 0
        for p in parts:
            v = np.uint64(part_value(p)) if isinstance(p, str | int) else _column_values(p)
            columns += not isinstance(p, str | int)
            h = mix64(h ^ v)
        if not columns:
            raise ValueError("a hashed key needs at least one column")
        return h

    def uniform(self, *parts: Part) -> np.ndarray:
        """A uniform number in [0, 1) for every row of the key columns (float64, 53 random bits)."""
        if _empty(parts):
            return np.zeros(0)
        return (self._hash((self.seed, *parts)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def hex_u64(self, *parts: Part) -> np.ndarray:
        """A 64-bit id (uint64) for every row."""
        if _empty(parts):
            return np.zeros(0, dtype=np.uint64)
        return self._hash(("id", self.seed, *parts))

    def _words(self, parts: tuple[Part, ...], k: int) -> list[np.ndarray]:
        h = self.hex_u64(*parts)
        return [h] + [mix64(h ^ np.uint64(_WORD * i & _MASK64)) for i in range(1, k)]

    def hex(self, *parts: Part, n: int = 32) -> pa.Array:
        """An id of `n` lowercase hex digits for every row."""
        if _empty(parts):
            return pa.array([], pa.string())
        words = self._words(parts, -(-n // 16))
        return fixed_strings(np.concatenate([hex_digits(w) for w in words], axis=1)[:, :n])

    def b64_id(self, *parts: Part) -> pa.Array:
        """An id of 22 URL-safe base64 characters (132 random bits) for every row, like Mailgun's event ids."""
        if _empty(parts):
            return pa.array([], pa.string())
        words = self._words(parts, 3)
        chars = np.empty((len(words[0]), 22), dtype=np.uint8)
        for w, (first, count) in zip(words, ((0, 10), (10, 10), (20, 2)), strict=True):
            for i in range(count):
                chars[:, first + i] = _B64[(w >> np.uint64(58 - 6 * i)) & np.uint64(63)]
        return fixed_strings(chars)


def _empty(parts: tuple[Part, ...]) -> bool:
    return any(not isinstance(p, str | int) and len(p) == 0 for p in parts)
