"""What the extra connectors' writers share: SMTP texts, links, per-message columns and the window filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from .model import Population
from .more_simulation import Outcomes
from .output_files import OutputFile
from .text_columns import Lines, day_strings, dict_col, json_quoted

HARD = ("550 5.1.1 The email account that you tried to reach does not exist.", "5.1.1", "550")
SOFT = ("452 4.2.2 The email account that you tried to reach is over quota.", "4.2.2", "452")
LINKS = ("https://www.example.com/news", "https://www.example.com/offer", "https://www.example.com/account")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"


def write_file(out: Path, rel: str, data: bytes) -> None:
    p = out / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def write_lines(out: Path, rel: str, lines: Lines, order: np.ndarray | None = None) -> None:
    """Write `lines` in `order` (None: as they are) straight from DuckDB's buffers (no joined copy)."""
    p = out / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    with OutputFile(p) as fh:
        lines.write_ordered(fh, order)


class MessageEvents:
    """The events of one platform's messages: which message (index into the Outcomes), what, when."""

    def __init__(self, parts: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        """parts: (event type, message indices, times), in the order the row-by-row writer appended them."""
        self.msg = np.concatenate([m for _, m, _ in parts]).astype(np.int64)
        self.kind = np.concatenate([np.full(len(m), k, dtype=np.int8) for k, m, _ in parts])
        self.ts = np.concatenate([t for _, _, t in parts]).astype(np.int64)

    def keep(self, mask: np.ndarray, order: np.ndarray | None = None) -> None:
        idx = np.nonzero(mask)[0] if order is None else order[mask[order]]
        self.msg, self.kind, self.ts = self.msg[idx], self.kind[idx], self.ts[idx]

    def reorder(self, order: np.ndarray) -> None:
        self.msg, self.kind, self.ts = self.msg[order], self.kind[order], self.ts[order]

    def in_window(self, window: tuple[int, int], by_time: bool) -> None:
        """Keep the window's events: sorted by time (then message, then type) or in message order."""
        inside = (self.ts >= window[0]) & (self.ts < window[1])
        # the row-by-row writers appended a message's events in type order, messages in order
        order = np.lexsort((self.kind, self.msg, self.ts)) if by_time else np.lexsort((self.kind, self.msg))
        self.keep(inside, order)

    def __len__(self) -> int:
        return len(self.ts)


def emails_json(pop: Population) -> pa.Array:
    return json_quoted(pop.email[:pop.n_random])


def per_message(values: pa.Array | list[str], index: np.ndarray, rows: np.ndarray) -> pa.DictionaryArray:
    """A column over event rows of a per-message (or per-contact) value: values[index[rows]]."""
    return dict_col(values, np.asarray(index)[rows])


def send_days(oc: Outcomes, fmt: str) -> tuple[list[str], np.ndarray]:
    """The weekly sends' days formatted with strftime, and each message's index into them."""
    return day_strings(oc.send, fmt)
