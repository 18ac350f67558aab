"""The uniform draws of one send, made only where they decide something.

Every send has its own generator, keyed by (seed, send, population size), and its draws are laid out as
`rng.random((9, n_random))`: row r holds draw r of every random contact. PCG64 can jump ahead, so a row is generated
only when it is needed, and a row needed for a handful of contacts (before the window, only the contacts who
unsubscribe or complain matter) is read at just those places. The values are the ones the full array would hold.
"""

from __future__ import annotations

import numpy as np

ROWS = 9
SPARSE_COST = 500  # reading one value costs about as much as generating this many values of a row
_TO_UNIT = 1.0 / 9007199254740992.0  # numpy's next_double: (next_uint64 >> 11) * 2**-53


class SendDraws:
    def __init__(self, key: list[int], n: int) -> None:
        self.bitgen = np.random.PCG64(key)
        self.start = self.bitgen.state
        self.n = n
        self.rows: dict[int, np.ndarray] = {}

    def __call__(self, row: int, idx: np.ndarray) -> np.ndarray:
        """Draw `row` of the contacts `idx` (indices of random contacts)."""
        if row in self.rows:
            return self.rows[row][idx]
        if len(idx) * SPARSE_COST >= self.n:
            self.bitgen.state = self.start
            self.bitgen.advance(row * self.n)
            self.rows[row] = np.random.Generator(self.bitgen).random(self.n)
            return self.rows[row][idx]
        return self._sparse(row, np.asarray(idx))

    def _sparse(self, row: int, idx: np.ndarray) -> np.ndarray:
        uniq, inv = np.unique(idx, return_inverse=True)
        out = np.empty(len(uniq))
        self.bitgen.state = self.start
        pos = 0
        for k, j in enumerate(uniq.tolist()):
            self.bitgen.advance(row * self.n + j - pos)
            out[k] = (int(self.bitgen.random_raw()) >> 11) * _TO_UNIT
            pos = row * self.n + j + 1
        return out[inv.reshape(-1)]
