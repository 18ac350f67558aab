"""The generator's output files: big ones are written around the page cache (O_DIRECT), small ones as usual.

Writing 15 GB through the page cache makes the kernel copy every byte into freshly allocated cache pages; on the
benchmark's machine that copy was a quarter of the generator's CPU time (about 500 MB/s per core: 4 GB took 8.0 s of
system time through the cache, 0.4 s with O_DIRECT at 1.5 GB/s). An OutputFile gathers writes in a reused, aligned
buffer; once a file outgrows the buffer its descriptor is switched to O_DIRECT and whole buffers go to the disk. The
tail is padded to a block, written, and the file truncated to its length. Where O_DIRECT is missing (not Linux) or
refused (a file system without it), the same writes go through the page cache. The bytes are the same either way.

Files written this way are on the disk, not in the page cache: the first reader reads them from the disk (the
benchmark's read floor reads every file once before it times anything).
"""

from __future__ import annotations

import errno
import io
import mmap
import os
import threading
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no fcntl and no O_DIRECT, every file goes through the cache
    fcntl = None  # type: ignore[assignment]

ALIGN = 4096  # O_DIRECT writes start and end on this boundary (the largest logical block size in use)
BUFFER = 1 << 20  # bytes per write: a file bigger than this goes to the disk directly, 1 MiB at a time
_O_DIRECT = getattr(os, "O_DIRECT", 0) if fcntl is not None else 0
_POOL: list[mmap.mmap] = []  # buffers of closed files, reused (a fresh one costs a page fault per 4 KB)
_POOL_LOCK = threading.Lock()
_POOL_MAX = 8


def _buffer(size: int) -> mmap.mmap:
    with _POOL_LOCK:
        while _POOL:
            buf = _POOL.pop()
            if len(buf) == size:
                return buf
            buf.close()
    return mmap.mmap(-1, size)  # anonymous memory is page-aligned, as O_DIRECT needs


def _release(buf: mmap.mmap) -> None:
    with _POOL_LOCK:
        if len(_POOL) < _POOL_MAX:
            _POOL.append(buf)
            return
    buf.close()


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for `fd`; False when this system or file system has no O_DIRECT."""
    if not _O_DIRECT:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT if on else flags & ~_O_DIRECT)
    except OSError as e:
        if e.errno == errno.EINVAL:
            return False
        raise
    return on


class OutputFile:
    """A binary file opened for writing (`with OutputFile(path) as fh: fh.write(b"...")`).

    `seek` only moves back over bytes not yet written out (at least ALIGN of them are always kept), which is what the
    writers need to replace a trailing separator; anything else raises io.UnsupportedOperation.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
        self._size = BUFFER  # bytes per write out (a multiple of ALIGN)
        self._map = _buffer(self._size + ALIGN)
        self._buf = memoryview(self._map)
        self._pos = 0  # where the next byte goes in the buffer
        self._end = 0  # bytes in the buffer (more than _pos after a seek back)
        self._flushed = 0  # bytes of the file already written out: a multiple of the buffer's size
        self._direct: bool | None = None  # decided at the first flush: only files bigger than the buffer go direct
        self.closed = False

    def write(self, data: Any) -> int:
        mv = memoryview(data)
        if mv.format != "B" or mv.ndim != 1:
            mv = mv.cast("B")
        n, off, cap = len(mv), 0, self._size + ALIGN
        while off < n:
            if self._pos == cap:
                self._flush()
            k = min(n - off, cap - self._pos)
            self._buf[self._pos:self._pos + k] = mv[off:off + k]
            self._pos += k
            off += k
            self._end = max(self._end, self._pos)
        return n

    def _flush(self) -> None:
        """Write out the buffer's first `_size` bytes; its last ALIGN bytes move to the front."""
        size = self._size
        if self._direct is None:
            self._direct = _set_direct(self._fd, True)
        self._write_out(self._buf[:size])
        self._buf[:ALIGN] = self._buf[size:size + ALIGN]
        self._flushed += size
        self._pos -= size
        self._end -= size

    def _write_out(self, mv: memoryview) -> None:
        while len(mv):
            try:
                n = os.write(self._fd, mv)
            except OSError as e:
                # a file system that took the flag but refuses the write: go on through the page cache
                if not (self._direct and e.errno == errno.EINVAL):
                    raise
                self._direct = _set_direct(self._fd, False)
                continue
            mv = mv[n:]

    def tell(self) -> int:
        return self._flushed + self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self.tell() + offset if whence == io.SEEK_CUR else None
        if target is None or not self._flushed <= target <= self._flushed + self._end:
            raise io.UnsupportedOperation(f"{self.path}: can only seek within the last {ALIGN} bytes written")
        self._pos = target - self._flushed
        return target

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            tail = self._end
            if self._direct:
                padded = -(-tail // ALIGN) * ALIGN
                self._buf[tail:padded] = bytes(padded - tail)
                self._write_out(self._buf[:padded])
                os.ftruncate(self._fd, self._flushed + tail)
            else:
                self._write_out(self._buf[:tail])
        finally:
            os.close(self._fd)
            self._buf.release()
            _release(self._map)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
