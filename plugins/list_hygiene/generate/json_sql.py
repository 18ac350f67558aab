"""DuckDB SQL that prints a JSON document per row exactly as Python's `json.dumps` would.

A document is described with plain Python values (dicts keep their key order) in which two markers stand for
per-row columns: `Sql(expr)` is an expression that already yields JSON text (a number, `true`, a quoted string, a
whole sub-document), `Str(expr)` one that yields text needing no JSON escaping (printed inside quotes). Everything
else is serialised once, here, with `json.dumps`, so separators, escaping and indentation match the standard library.
"""

from __future__ import annotations

import json
import re


class Sql(str):
    """A SQL expression yielding JSON text (NULL prints nothing: DuckDB's concat skips it)."""


class Str(str):
    """A SQL expression yielding a string that needs no escaping (hex ids, ISO times, plain ASCII words)."""


def _pieces(v: object, indent: int | None, level: int, out: list[str]) -> None:
    if isinstance(v, Sql):
        out.append(v)
    elif isinstance(v, Str):
        out += ['"', Sql(v), '"']
    elif isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        inner = "\n" + " " * (indent * (level + 1)) if indent is not None else ""
        for k, (key, x) in enumerate(v.items()):
            sep = ("," if indent is not None else ", ") if k else ""
            out.append(("{" if not k else sep) + inner + json.dumps(key) + ": ")
            _pieces(x, indent, level + 1, out)
        out.append(("\n" + " " * (indent * level) if indent is not None else "") + "}")
    elif isinstance(v, list | tuple):
        if not v:
            out.append("[]")
            return
        inner = "\n" + " " * (indent * (level + 1)) if indent is not None else ""
        for k, x in enumerate(v):
            sep = ("," if indent is not None else ", ") if k else ""
            out.append(("[" if not k else sep) + inner)
            _pieces(x, indent, level + 1, out)
        out.append(("\n" + " " * (indent * level) if indent is not None else "") + "]")
    else:
        out.append(json.dumps(v))


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def concat_sql(parts: list[str]) -> str:
    """concat(...) of literal texts (plain str) and expressions (Sql), adjacent literals merged."""
    merged: list[str] = []
    lit = ""
    for p in parts:
        if isinstance(p, Sql):
            if lit:
                merged.append(sql_literal(lit))
                lit = ""
            merged.append(f"({p})")
        else:
            lit += p
    if lit:
        merged.append(sql_literal(lit))
    if len(merged) == 1:
        return merged[0]
    return "concat(" + ", ".join(merged) + ")"


def json_sql(doc: object, indent: int | None = None, level: int = 0, suffix: str = "") -> str:
    """The SQL expression printing `doc` as json.dumps(doc, indent=indent) would (nested at `level`), + suffix."""
    parts: list[str] = []
    _pieces(doc, indent, level, parts)
    if suffix:
        parts.append(suffix)
    return concat_sql(parts)


_SQL_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def json_escape(text: str) -> str:
    """The inside of `text`'s JSON string literal: `\\` and `"` escaped. Printable ASCII only, where json.dumps and
    DuckDB's to_json escape alike (they differ on other characters, so those are refused)."""
    if not _PRINTABLE_ASCII.fullmatch(text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return text.replace("\\", "\\\\").replace('"', '\\"')


def escaped_sql(expr: str) -> str:
    """SQL printing what `to_json(expr)` prints, without its quotes, for a text expression whose literals are all
    printed text and whose columns need no escaping (or hold already-escaped text, see text_columns.json_escaped).

    JSON escaping works character by character, so escaping each literal once here gives the same bytes as escaping
    every row's whole text at run time, which costs DuckDB a second pass over each long string.
    """
    return _SQL_LITERAL.sub(lambda m: sql_literal(json_escape(m.group(1).replace("''", "'"))), expr)
