"""OutputFile: the generator's files, big ones written with O_DIRECT; the bytes must be the ones written."""

from __future__ import annotations

import errno
import fcntl
import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from gen_helpers import file_digests

from list_hygiene.generate import generate, output_files
from list_hygiene.generate.output_files import ALIGN, OutputFile

REPO = Path(__file__).resolve().parents[2]
SMALL = 2 * ALIGN  # a buffer size that sends anything over 8 KiB to the disk directly


@pytest.fixture
def small_buffer(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(output_files, "BUFFER", SMALL)
    return SMALL


def _direct_works(d: Path) -> bool:
    if not getattr(os, "O_DIRECT", 0):
        return False
    fd = os.open(d / "probe", os.O_WRONLY | os.O_CREAT)
    try:
        return output_files._set_direct(fd, True)
    finally:
        os.close(fd)
        (d / "probe").unlink()


def _pieces(seed: int, total: int) -> list[bytes]:
    """Writes of every awkward size: empty, one byte, around ALIGN and around the buffer."""
    rng = np.random.default_rng(seed)
    sizes = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, SMALL - 3, SMALL, SMALL + ALIGN, 3 * SMALL + 5]
    out, n = [], 0
    while n < total:
        k = int(sizes[len(out) % len(sizes)] if len(out) < 2 * len(sizes) else rng.integers(0, 3 * SMALL))
        out.append(rng.integers(0, 256, k, dtype=np.uint8).tobytes())
        n += k
    return out


@pytest.mark.parametrize("extra", [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, SMALL])
def test_big_file_goes_direct_and_keeps_every_byte(tmp_path: Path, small_buffer: int, extra: int) -> None:
    if not _direct_works(tmp_path):
        pytest.skip("this file system has no O_DIRECT: test_refused_direct covers the fallback")
    pieces = _pieces(extra, 10 * SMALL) + [b"x" * extra]
    with OutputFile(tmp_path / "f") as fh:
        for p in pieces:
            assert fh.write(p) == len(p)
        assert fh.tell() == sum(map(len, pieces))
        assert fh._direct is True
        assert fcntl.fcntl(fh._fd, fcntl.F_GETFL) & os.O_DIRECT
    assert (tmp_path / "f").read_bytes() == b"".join(pieces)


def test_small_file_stays_in_the_page_cache(tmp_path: Path, small_buffer: int) -> None:
    with OutputFile(tmp_path / "f") as fh:
        fh.write(b"a" * (SMALL + ALIGN))  # fills the buffer, nothing written out yet
        assert fh._direct is None
        assert not fcntl.fcntl(fh._fd, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0)
    assert (tmp_path / "f").read_bytes() == b"a" * (SMALL + ALIGN)
    with OutputFile(tmp_path / "empty"):
        pass
    assert (tmp_path / "empty").read_bytes() == b""


def test_writes_any_buffer(tmp_path: Path) -> None:
    """Arrow buffers (signed chars), numpy arrays and memoryview slices are written as their bytes."""
    arrow = pa.array(["héllo", "wörld"]).buffers()[2]
    words = np.arange(5, dtype=np.int64)
    with OutputFile(tmp_path / "f") as fh:
        fh.write(memoryview(arrow))
        fh.write(words)
        fh.write(memoryview(b"0123456789")[2:5])
    assert (tmp_path / "f").read_bytes() == arrow.to_pybytes() + words.tobytes() + b"234"


@pytest.mark.parametrize("before", [1, 2, ALIGN - 1, SMALL - 1, SMALL, SMALL + 1, SMALL + ALIGN, 5 * SMALL + 2])
def test_seek_back_over_a_separator(tmp_path: Path, small_buffer: int, before: int) -> None:
    """How the SendGrid webhook bodies end: the last line's ",\\n" replaced by "\\n]\\n", wherever the buffer stood."""
    body = b"[\n" + b"y" * before + b",\n"
    with OutputFile(tmp_path / "f") as fh:
        fh.write(body)
        assert fh.seek(-2, io.SEEK_CUR) == len(body) - 2
        fh.write(b"\n]\n")
    assert (tmp_path / "f").read_bytes() == body[:-2] + b"\n]\n"


def test_seek_back_without_shortening_keeps_the_rest(tmp_path: Path, small_buffer: int) -> None:
    with OutputFile(tmp_path / "f") as fh:
        fh.write(b"z" * (3 * SMALL) + b"abcdef")
        fh.seek(-6, io.SEEK_CUR)
        fh.write(b"AB")
    assert (tmp_path / "f").read_bytes() == b"z" * (3 * SMALL) + b"ABcdef"


def test_seek_outside_what_is_held_is_refused(tmp_path: Path, small_buffer: int) -> None:
    with OutputFile(tmp_path / "f") as fh:
        fh.write(b"q" * (4 * SMALL))
        with pytest.raises(io.UnsupportedOperation, match="f: can only seek"):
            fh.seek(0)
        assert fh._flushed > 0
        with pytest.raises(io.UnsupportedOperation):
            fh.seek(fh._flushed - 1)  # the last byte written out
        with pytest.raises(io.UnsupportedOperation):
            fh.seek(1, io.SEEK_CUR)
        with pytest.raises(io.UnsupportedOperation):
            fh.seek(0, io.SEEK_END)
        fh.seek(-ALIGN, io.SEEK_CUR)  # the last ALIGN bytes are always held
    assert (tmp_path / "f").read_bytes() == b"q" * (4 * SMALL)


def test_refused_direct(tmp_path: Path, small_buffer: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """No O_DIRECT on this system or file system: the same bytes through the page cache."""
    monkeypatch.setattr(output_files, "_O_DIRECT", 0)
    pieces = _pieces(3, 6 * SMALL) + [b"tail"]
    with OutputFile(tmp_path / "f") as fh:
        for p in pieces:
            fh.write(p)
        assert fh._direct is False
    assert (tmp_path / "f").read_bytes() == b"".join(pieces)


def test_direct_write_refused_midway(tmp_path: Path, small_buffer: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that takes the flag but refuses a direct write: the file goes on through the page cache."""
    if not _direct_works(tmp_path):
        pytest.skip("this file system has no O_DIRECT")
    real_write, refused = os.write, []

    def write(fd: int, data: memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT and len(refused) < 1:
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(output_files.os, "write", write)
    pieces = _pieces(5, 5 * SMALL) + [b"end"]
    with OutputFile(tmp_path / "f") as fh:
        for p in pieces:
            fh.write(p)
        assert fh._direct is False
    assert refused, "the first direct write was not attempted"
    assert (tmp_path / "f").read_bytes() == b"".join(pieces)


def test_other_write_errors_are_raised(tmp_path: Path, small_buffer: int, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    fh = OutputFile(tmp_path / "f")
    fh.write(b"w" * (SMALL + ALIGN))
    monkeypatch.setattr(output_files.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        fh.write(b"more")
    with pytest.raises(OSError, match="No space"):
        fh.close()
    assert fh.closed


def test_buffers_are_reused(tmp_path: Path, small_buffer: int) -> None:
    output_files._POOL.clear()
    with OutputFile(tmp_path / "a") as fa:
        first = fa._map
    with OutputFile(tmp_path / "b") as fb:
        assert fb._map is first, "a closed file's buffer is taken again"
    files = [OutputFile(tmp_path / f"{i}") for i in range(output_files._POOL_MAX + 3)]
    for f in files:
        f.close()
    assert len(output_files._POOL) == output_files._POOL_MAX


def test_generated_with_every_file_direct_are_the_bundled_samples(tmp_path: Path, small_buffer: int) -> None:
    """With an 8 KiB buffer every export of the samples but the smallest is written directly: same bytes."""
    generate(tmp_path)
    samples = {k: v for k, v in file_digests(REPO / "data_samples").items() if k != "README.md"}
    assert file_digests(tmp_path) == samples
    big = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > SMALL + ALIGN]
    assert len(big) >= 10, "the samples should have files big enough to go direct with this buffer"
