"""Big `.json` files streamed with ijson instead of parsed whole with `json.loads`.

Why: a 650 MB Mailgun Events API page (`{"items": [...], "paging": {...}}`) costs 5.65 GiB of Python
objects when parsed whole; the project's rule is that ingest streams files. Two shapes are streamed:

- a top-level array `[...]`: its elements come one at a time, as `(i + 1, element)`;
- a top-level object whose rows live under the spec's `stream_key` (e.g. Mailgun's "items"): one
  `(0, doc)` pair, `doc` a `StreamedDocument` holding only `{stream_key: <one-pass iterator of the
  elements>}`; the spec's `records` function iterates it while ijson reads the file.

Either way `spec.records(doc)` gives the same records, in the same order, with the same sub indexes and
the same Python values and types as for the document `json.loads` gives (what loader._documents yields).

Contract for the caller (loader._documents and read_file):

- `stream_documents(path, spec)` returns None when streaming does not apply: not a `.json` file of a
  JSON spec, smaller than `STREAM_BYTES`, a top-level scalar, an object and the spec has no
  `stream_key`, or a problem found before anything was handed out (key absent from the first
  `HEADER_BYTES`, its value not an array, a lone surrogate escape in the first chunk, ...). The caller
  then parses the file with json.loads as before.
- Otherwise it returns an iterator of (row, document) pairs. Iterating it, or the records of a streamed
  document, may raise `StreamUnsupported` at any point, also after rows were handed out and loaded:
  the file holds something whose json.loads result the stream cannot reproduce (invalid JSON or UTF-8
  anywhere, a lone surrogate escape, NaN/Infinity, an integer or float yajl cannot hold, data after the
  document, the key twice, nesting deeper than `MAX_DEPTH`, ...), or the records function failed on
  an element (a parsed document would have been quarantined as a whole). The caller must then throw
  away everything it loaded from this file (roll back) and read the file again with json.loads.
- The file is only known to match json.loads once the iterator is exhausted: iterate it to the end
  (the loader's `for row, doc in _documents(...)` does) before committing anything.
- `StreamUnsupported` is not a ValueError / TypeError / AttributeError, so loader._json_document's
  "unreadable record" handler does not swallow it; records functions of specs with a `stream_key`
  are wrapped (specs._stream_guarded) so that their own errors on a streamed document become it too.
- Memory is only saved if the records of a streamed document are consumed as they come:
  `list(spec.records(doc))` (loader._json_document today) holds every record of the file at once again.

yajl (ijson's C backend) accepts a few things json.loads rejects or reads differently; they are caught
on the raw bytes before yajl sees them (see `_Source`): vertical tab / form feed as whitespace, lone
surrogate escapes (yajl writes "?" or a wrong character), an unterminated string after the document,
and deep nesting (ijson's memory grows with the square of the depth). What yajl rejects and json.loads
accepts (NaN, Infinity, 1e400, integers beyond 64 bits) simply ends the stream with StreamUnsupported.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ijson
import numpy as np

if TYPE_CHECKING:
    from .specs import SourceSpec

STREAM_BYTES = 32 * 1024 * 1024  # smaller files are parsed whole: little memory, and never a restart
CHUNK_BYTES = 1024 * 1024  # bytes read and checked at a time
YAJL_BYTES = 64 * 1024  # bytes handed to yajl at a time (ijson's default; 1 MiB makes it 40 % slower)
HEADER_BYTES = 1024 * 1024  # the streamed key's array must start within this many bytes of the document
# deeper nesting takes the json.loads path: json.loads itself fails (RecursionError) somewhere past ~900
# levels, depending on the caller's stack, and ijson's memory grows with the square of the depth
MAX_DEPTH = 256


def _backend():
    """ijson's C backend (yajl2_c); the default backend when the C extension is missing."""
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:
        return ijson


_IJSON = _backend()


class StreamUnsupported(Exception):
    """The stream cannot reproduce json.loads' result for this file: roll back, read it with json.loads."""


class StreamedDocument(dict):
    """A whole-file object as its spec's `records` sees it: `{stream_key: one-pass iterator}`."""

    def __init__(self, key: str, elements: Iterator[Any]):
        super().__init__({key: elements})

    def stream_guard(self, records: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        """The records, with any error turned into StreamUnsupported: some records were loaded already, so
        the document cannot be quarantined as a whole the way a parsed one is (specs._stream_guarded)."""
        try:
            yield from records
        except StreamUnsupported:
            raise
        except Exception as exc:
            raise StreamUnsupported(f"the records function failed on a streamed element: {exc!r}") from exc


def stream_documents(path: Path, spec: SourceSpec) -> Iterator[tuple[int, Any]] | None:
    """The (row, document) pairs loader._documents yields for this `.json` file, streamed; None when
    streaming does not apply (see the module docstring for what the caller must do)."""
    if spec.format != "json" or path.suffix.lower() in (".jsonl", ".ndjson"):
        return None
    if path.stat().st_size < STREAM_BYTES:
        return None
    source = _Source(path)
    try:
        docs = _documents(source, spec)
    except StreamUnsupported:
        docs = None
    except BaseException:
        source.close()
        raise
    if docs is None:
        source.close()
    return docs


def _documents(source: _Source, spec: SourceSpec) -> Iterator[tuple[int, Any]] | None:
    first = source.first_byte()
    if first == b"[":
        return _array_documents(source)
    if first == b"{" and spec.stream_key and spec.records is not None:
        return _object_documents(source, _Top.find_array(source, spec.stream_key))
    return None


def _array_documents(source: _Source) -> Iterator[tuple[int, Any]]:
    """`[e1, e2, ...]`: (1, e1), (2, e2), ...; yajl checks the whole file, `_Source` what yajl lets through."""
    try:
        items = _IJSON.items(_Reader(source), "item", use_float=True, buf_size=YAJL_BYTES)
        for i, element in enumerate(_checked(items)):
            yield i + 1, element
        source.finish()
    finally:
        source.close()


def _object_documents(source: _Source, top: _Top) -> Iterator[tuple[int, Any]]:
    """(0, {key: elements}); the file's end is checked when the elements run out (or here, if the records
    function stopped early)."""
    try:
        elements = _elements(source, top)
        yield 0, StreamedDocument(top.key, elements)
        for _ in elements:  # what the records function left unread: read (and check) it all the same
            pass
        if not top.finished:
            raise StreamUnsupported("the streamed document was not read to its end")
    finally:
        source.close()


def _elements(source: _Source, top: _Top) -> Iterator[Any]:
    """The streamed array's elements (yajl reads `[` + the array's bytes), then the rest of the object."""
    items = _IJSON.items(_Reader(source, prefix=b"["), "item", use_float=True, buf_size=YAJL_BYTES)
    yield from _checked(items)
    top.read_rest(source)


def _checked(items: Iterator[Any]) -> Iterator[Any]:
    """ijson's values, its errors (yajl's, UnicodeDecodeError, int limits, ...) raised as StreamUnsupported."""
    while True:
        try:
            value = next(items)
        except StopIteration:
            return
        except StreamUnsupported:
            raise
        except Exception as exc:
            raise StreamUnsupported(f"ijson: {exc!r}") from exc
        yield value


class _Reader:
    """The file object one ijson parser reads: `prefix` first, then the source's bytes; while `step` is set
    (the header), one byte a call, so that the parser stops exactly after the token it reports, and no
    further than HEADER_BYTES into the document."""

    def __init__(self, source: _Source, prefix: bytes = b"", step: bool = False):
        self.source, self.prefix, self.step = source, prefix, step

    def read(self, n: int) -> bytes:
        if n <= 0:
            return b""
        if self.prefix:
            data, self.prefix = self.prefix, b""
            return data
        if not self.step:
            return self.source.read(n)
        if self.source.pos - self.source.doc_start >= HEADER_BYTES:
            raise StreamUnsupported(f"the streamed array does not start within {HEADER_BYTES} bytes")
        return self.source.read(1)


class _Top:
    """The top-level object's events (ijson.parse, Python side: the part before the streamed array and the
    part after it): finds the array, rejects a second occurrence of its key."""

    def __init__(self, key: str, events: Iterator[tuple[str, str, Any]], reader: _Reader):
        self.key, self.events, self.reader = key, events, reader
        self.depth = 0
        self.seen = 0
        self.finished = False

    @classmethod
    def find_array(cls, source: _Source, key: str) -> _Top:
        """Parse up to the `[` that starts the key's array (one byte at a time, so the source stops there)."""
        reader = _Reader(source, step=True)
        top = cls(key, _IJSON.parse(reader, buf_size=YAJL_BYTES, use_float=True), reader)
        for event, _value in top._events():
            if top.seen and event != "map_key":  # the key's value starts
                if event != "start_array":
                    raise StreamUnsupported(f"`{key}` is not an array")
                source.watch_array_end()
                return top
        raise StreamUnsupported(f"no top-level `{key}`")

    def read_rest(self, source: _Source) -> None:
        """After the array: the rest of the object, parsed (a second `key` makes json.loads keep that one)."""
        source.resume_after_array()
        self.reader.step = False
        for _ in self._events():
            pass
        source.finish()
        self.finished = True

    def _events(self) -> Iterator[tuple[str, Any]]:
        """(event, value) with the depth tracked (ijson's prefixes are ambiguous: key "" adds nothing)."""
        for _prefix, event, value in _checked(self.events):
            if event == "map_key" and self.depth == 1 and value == self.key:
                self.seen += 1
                if self.seen > 1:
                    raise StreamUnsupported(f"`{self.key}` appears twice at the top level (json.loads keeps the last)")
            if event in ("start_map", "start_array"):
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    raise StreamUnsupported(f"nesting deeper than {MAX_DEPTH}")
            elif event in ("end_map", "end_array"):
                self.depth -= 1
            yield event, value


# ---------------------------------------------------------------- the file's bytes, checked before yajl reads them
_WS = b" \t\n\r"  # JSON whitespace: json.loads accepts no other (yajl also takes \v and \f)
_ESCAPED = re.compile(rb'\\[\\"]')  # `\\` and `\"`: replaced by `__`, every other backslash starts an escape
_LONE_HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")
_LOW = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_DELTA = np.zeros(256, np.int8)
_DELTA[[ord("["), ord("{")]] = 1
_DELTA[[ord("]"), ord("}")]] = -1
_ESCAPE_SPAN = 12  # bytes: the longest escape that must not be cut between chunks (a surrogate pair)


def _neutral(chunk: bytes) -> bytes:
    """The chunk with `\\\\` and `\\"` replaced by `__` (same length): quotes left are string delimiters,
    backslashes left start escapes."""
    return _ESCAPED.sub(b"__", chunk) if b"\\" in chunk else chunk


def _cut(data: bytes) -> int:
    """Where a chunk may end: after the last `_ESCAPE_SPAN` bytes without a backslash (no escape sequence nor
    surrogate pair cut in two); 0 if there is no such place."""
    end = len(data)
    while end >= _ESCAPE_SPAN:
        i = data.rfind(b"\\", end - _ESCAPE_SPAN, end)
        if i < 0:
            return end
        end = i
    return 0


def _check_escapes(neutral: bytes) -> None:
    """Every surrogate escape must be half of a pair: yajl turns a lone high one into "?" (or, followed by
    any other `\\u`, into a wrong character) where json.loads keeps the lone surrogate."""
    if _LONE_HIGH.search(neutral):
        raise StreamUnsupported("a lone high surrogate escape")
    for m in _LOW.finditer(neutral):
        if m.start() < 6 or not _HIGH.fullmatch(neutral, m.start() - 6, m.start()):
            raise StreamUnsupported("a lone low surrogate escape")


class _Source:
    """The file's bytes after a UTF-8 BOM (json.loads' `utf-8-sig` drops one), read in chunks that are
    checked before any parser sees them: strict UTF-8, no \\v or \\f, paired surrogate escapes, nesting
    depth (strings excluded, counted on the few structural bytes with NumPy), nothing but whitespace after
    the document. The depth also tells where the streamed array ends (`limit`)."""

    def __init__(self, path: Path):
        self.fh = open(path, "rb")  # closed by close(): the documents' iterator ends (or stream_documents)
        start = len(codecs.BOM_UTF8) if self.fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8 else 0
        self.fh.seek(start)
        self.buf, self.buf_at, self.pos, self.pending, self.eof = b"", start, start, b"", False
        self.limit: int | None = None  # no bytes handed out from here on (the streamed array's end + 1)
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.depth, self.in_string = 0, 0  # after the bytes checked so far
        self.buf_state = (0, 0)  # depth and in_string where `buf` starts
        self.doc_start: int | None = None
        self.doc_end: int | None = None
        self.array_from: int | None = None  # the streamed array's first byte while its end is looked for

    def close(self) -> None:
        self.fh.close()

    def first_byte(self) -> bytes:
        """The document's first byte (after whitespace): `[`, `{`, or something not streamed."""
        self._load()
        if self.doc_start is None:
            return b""
        return self.buf[self.doc_start - self.buf_at:][:1]

    def read(self, n: int) -> bytes:
        """Up to `n` bytes from `pos` (b"" at the end of the file, or at `limit`)."""
        if self.limit is not None and self.pos >= self.limit:
            return b""
        if self.pos >= self.buf_at + len(self.buf) and not self._load():
            return b""
        end = self.buf_at + len(self.buf) if self.limit is None else min(self.buf_at + len(self.buf), self.limit)
        i = self.pos - self.buf_at
        data = self.buf[i:i + min(n, end - self.pos)]
        self.pos += len(data)
        return data

    def watch_array_end(self) -> None:
        """The header ends at `pos`, just after the array's `[`: find the array's `]` (here or in later chunks)."""
        self.array_from = self.pos
        self._array_end(self._locate(_neutral(self.buf), 1, self.pos))

    def resume_after_array(self) -> None:
        """Hand out the array's `]` again and then the rest: the header's parser reads on from there."""
        if self.limit is None or self.pos != self.limit:
            raise StreamUnsupported("the streamed array did not end where the depth count says")
        self.pos, self.limit = self.limit - 1, None

    def finish(self) -> None:
        """The parser has read the whole file: it must have ended where the document ends."""
        if not self.eof or self.doc_end is None:
            raise StreamUnsupported("the document's end was not found")

    def _load(self) -> bool:
        """The next chunk into `buf`, checked; False at the end of the file."""
        if self.eof:
            return False
        chunk = self._next_chunk()
        self.buf_at += len(self.buf)
        self.buf, self.buf_state = chunk, (self.depth, self.in_string)
        if not chunk:
            self.eof = True
            self._utf8(b"", final=True)
            return False
        self._check(chunk)
        return True

    def _next_chunk(self) -> bytes:
        """The next bytes to check, cut where no escape sequence is split (b"" at the end of the file)."""
        data = self.pending
        while True:
            more = self.fh.read(CHUNK_BYTES)
            data += more
            cut = _cut(data) if more else len(data)
            if cut or not more:
                self.pending = data[cut:]
                return data[:cut]

    def _utf8(self, chunk: bytes, final: bool = False) -> None:
        try:
            self.utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise StreamUnsupported(f"not UTF-8 ({exc.reason})") from None

    def _check(self, chunk: bytes) -> None:
        if b"\x0b" in chunk or b"\x0c" in chunk:
            raise StreamUnsupported("a vertical tab or form feed (json.loads rejects them, yajl takes them as space)")
        self._utf8(chunk)
        neutral = _neutral(chunk)
        if b"\\" in chunk:
            _check_escapes(neutral)
        if self.doc_end is not None:
            if chunk.strip(_WS):
                raise StreamUnsupported("data after the document")
            return
        if self.doc_start is None and chunk.lstrip(_WS):
            self.doc_start = self.buf_at + len(chunk) - len(chunk.lstrip(_WS))
        low = self._depths(neutral)
        if low is not None and low <= 1 and self.array_from is not None:
            self._array_end(self._locate(neutral, 1, self.buf_at))
        if low is not None and low <= 0 and self.doc_start is not None:
            self._document_end(chunk, neutral)

    def _array_end(self, end: int | None) -> None:
        """The streamed array ends at `end` (if found): parsers get no byte after it until resume_after_array."""
        if end is not None:
            self.limit, self.array_from = end + 1, None

    def _document_end(self, chunk: bytes, neutral: bytes) -> None:
        """The depth fell to 0 in this chunk: where the document ends, and nothing but whitespace after it."""
        end = self._locate(neutral, 0, max(self.doc_start, self.buf_at))
        if end is not None:
            self.doc_end = end
            if chunk[end + 1 - self.buf_at:].strip(_WS):
                raise StreamUnsupported("data after the document")

    def _depths(self, neutral: bytes) -> int | None:
        """Advance depth and in_string over the chunk; the lowest depth reached after a bracket (None: no
        bracket outside strings). Works on the quotes and brackets only: pairs of adjacent quotes (most
        strings) are dropped first, which leaves every bracket's inside-a-string parity as it was."""
        structure = neutral.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
        if not structure:
            return None
        marks = np.frombuffer(structure, np.uint8)
        delta = _DELTA[marks]
        if self.in_string or b'"' in structure:
            inside = (np.cumsum(marks == ord('"'), dtype=np.uint8) + self.in_string) & 1  # parity survives overflow
            delta[inside.astype(bool)] = 0
            self.in_string = int(inside[-1])
        depth = np.cumsum(delta, dtype=np.int32) + self.depth
        self.depth = int(depth[-1])
        if int(depth.max()) > MAX_DEPTH:
            raise StreamUnsupported(f"nesting deeper than {MAX_DEPTH}")
        moved = delta != 0
        return int(depth[moved].min()) if moved.any() else None

    def _locate(self, neutral: bytes, target: int, start: int) -> int | None:
        """The offset of the first closing bracket at or after `start`, in `buf`, after which the depth is
        `target` (byte-exact, for the one or two chunks where that happens)."""
        marks = np.frombuffer(neutral, np.uint8)
        depth0, in_string0 = self.buf_state
        inside = ((np.cumsum(marks == ord('"'), dtype=np.uint8) + in_string0) & 1).astype(bool)
        delta = _DELTA[marks]
        delta[inside] = 0
        depth = np.cumsum(delta, dtype=np.int32) + depth0
        i = start - self.buf_at
        hits = np.flatnonzero((depth[i:] == target) & (delta[i:] < 0))
        return self.buf_at + i + int(hits[0]) if hits.size else None
