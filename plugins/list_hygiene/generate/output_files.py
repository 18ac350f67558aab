"""The generator's output files: big ones are written around the page cache (O_DIRECT), small ones as usual.

Writing 15 GB through the page cache makes the kernel copy every byte into freshly allocated cache pages; on the
benchmark's machine that copy was a quarter of the generator's CPU time (about 500 MB/s per core: 4 GB took 8.0 s of
system time through the cache, 0.4 s with O_DIRECT at 1.5 GB/s). An OutputFile gathers writes in a reused, aligned
buffer; once a file outgrows the buffer its descriptor is switched to O_DIRECT and whole buffers go to the disk. The
tail is padded to a block, written, and the file truncated to its length. Where O_DIRECT is missing (not Linux) or
refused (a file system without it), the same writes go through the page cache. The bytes are the same either way.

A direct write waits for the disk (the page cache would have taken the bytes at once), so it runs on a small pool of
I/O threads while the writer fills a second buffer: at most one write per file is in flight, and the next flush or
the close waits for it (and raises its error, if it had one).

Files written this way are on the disk, not in the page cache: the first reader reads them from the disk (the
benchmark's read floor reads every file once before it times anything).
"""

from __future__ import annotations

import errno
import io
import mmap
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
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
_POOL_MAX = 16  # two per file being written
IO_THREADS = 4  # direct writes in flight at once (one per file)
_IO: ThreadPoolExecutor | None = None


def _io() -> ThreadPoolExecutor:
    global _IO
    with _POOL_LOCK:
        if _IO is None:
            _IO = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="output-files")
        return _IO


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
        self._pending: Future[None] | None = None  # the direct write in flight (of the previous buffer)
        self._spare: mmap.mmap | None = None  # the previous buffer, once written out
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
        """Write out the buffer's first `_size` bytes; its last ALIGN bytes move to the front (of the other buffer,
        when the write goes to the disk on an I/O thread)."""
        size = self._size
        self._wait()
        if self._direct is None:
            self._direct = _set_direct(self._fd, True)
        if self._direct:
            full, view = self._map, self._buf
            self._map = self._spare if self._spare is not None else _buffer(size + ALIGN)
            self._spare = None
            self._buf = memoryview(self._map)
            self._buf[:ALIGN] = view[size:size + ALIGN]
            self._pending = _io().submit(self._write_behind, full, view)
        else:
            self._write_out(self._buf[:size])
            self._buf[:ALIGN] = self._buf[size:size + ALIGN]
        self._flushed += size
        self._pos -= size
        self._end -= size

    def _write_behind(self, full: mmap.mmap, view: memoryview) -> None:
        try:
            self._write_out(view[:self._size])
        finally:
            view.release()
            self._spare = full

    def _wait(self) -> None:
        """Until the write in flight is done; its error, if any, is raised here (once)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

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
            self._wait()
            tail = self._end
            if self._direct:
                padded = -(-tail // ALIGN) * ALIGN
                self._buf[tail:padded] = bytes(padded - tail)
                self._write_out(self._buf[:padded])
                os.ftruncate(self._fd, self._flushed + tail)
            else:
                self._write_out(self._buf[:tail])
        finally:
            if self._pending is not None:  # an error above left a write in flight: let it end before the fd does
                self._pending.exception()
            os.close(self._fd)
            self._buf.release()
            _release(self._map)
            if self._spare is not None:
                _release(self._spare)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
