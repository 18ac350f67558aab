"""Read raw messages from .eml files, maildir folders and mbox files.

Yields ``(source, raw_bytes)`` so the parser sees the exact bytes; mbox messages are named
``path#N`` (1-based) and maildir messages by their file path, so every JSON line can be traced
back to one message.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MailboxError", "iter_messages"]

_MBOX_FROM = re.compile(rb"^From \S+.*\d{4}\s*$")


class MailboxError(OSError):
    """A path given on the command line is neither a message file, a maildir nor an mbox."""


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(1024)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    return first.startswith(b"From ") and bool(_MBOX_FROM.match(first) or b"@" in first or first.count(b" ") >= 2)


def _iter_mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield f"{path}#{number}", box.get_bytes(key)
    finally:
        box.close()


def _iter_maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    for sub in ("new", "cur"):
        for file in sorted((path / sub).iterdir()):
            if file.is_file() and not file.name.startswith("."):
                yield str(file), file.read_bytes()


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Every message under ``path``: a file (.eml or mbox), a maildir, or a folder of those (sorted)."""
    path = Path(path)
    if not path.exists():
        raise MailboxError(f"{path}: no such file or folder")
    if _is_maildir(path):
        yield from _iter_maildir(path)
        return
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir() and not _is_maildir(child):
                yield from iter_messages(child)
            elif child.is_file() or _is_maildir(child):
                yield from iter_messages(child)
        return
    if _is_mbox(path):
        yield from _iter_mbox(path)
        return
    yield str(path), path.read_bytes()
