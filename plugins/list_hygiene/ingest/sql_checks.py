"""The row checks of validate.py as DuckDB expressions, for the fast path.

Each expression is *sufficient*, not exact: when it says a value is fine, `check_value` would accept it
too; when it is unsure (an unusual but maybe valid date format, an address that needs IDN handling,
a timestamp within a day of the plausible range), the row goes back to the Python checks, which decide
and word the quarantine reason. So the fast path never loads a row the Python path would quarantine,
and it never quarantines anything itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .specs import BOOL, DATE, DATETIME, EMAIL, INT, ISO_TS, TEXT, UNIX_MS_TS, UNIX_TS, US_DATETIME, Field
from .validate import EARLIEST

# a plain ASCII address that normalize_email returns lower-cased with no problem: RFC 5322 dot-atom
# local part, dotted LDH labels, an alphabetic or punycode top-level domain
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
PLAIN_ADDRESS = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})"

# shapes Python's parsers certainly accept (datetime.fromisoformat, the strptime formats of validate.py)
_ISO = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?"
_US = r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M"
_SAFETY = timedelta(days=1)  # values within a day of either bound are left to Python (time zones, clock skew)


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _between(ts_sql: str, latest: datetime) -> str:
    low, high = EARLIEST + _SAFETY, latest - _SAFETY
    return f"({ts_sql} between TIMESTAMP {_q(low.isoformat(sep=' '))} and TIMESTAMP {_q(high.isoformat(sep=' '))})"


def _epoch_between(seconds_sql: str, latest: datetime) -> str:
    low = (EARLIEST + _SAFETY - datetime(1970, 1, 1)).total_seconds()
    high = (latest - _SAFETY - datetime(1970, 1, 1)).total_seconds()
    return f"({seconds_sql} between {low:.0f} and {high:.0f})"


def value_ok(f: Field, col: str, latest: datetime) -> str:
    """SQL that is true only when `check_value(f, <col>, latest)` passes (NULL counts as false)."""
    empty = f"({col} is null or {col} = '')"
    if f.kind == TEXT or f.kind == EMAIL:  # the address itself is settled by the normalisation join
        body = "true"
    elif f.kind == UNIX_TS:
        body = (f"(regexp_full_match({col}, '[0-9]{{9,10}}(\\.[0-9]{{1,6}})?') and "
                f"{_epoch_between(f'try_cast({col} as double)', latest)})")
    elif f.kind == UNIX_MS_TS:
        body = (f"(regexp_full_match({col}, '[0-9]{{12,13}}') and "
                f"{_epoch_between(f'try_cast({col} as double) / 1000', latest)})")
    elif f.kind in (ISO_TS, DATETIME):
        instant = f"try_cast(replace({col}, 'Z', '+00:00') as timestamptz)::timestamp"
        body = f"(regexp_full_match({col}, {_q(_ISO)}) and coalesce({_between(instant, latest)}, false))"
    elif f.kind == US_DATETIME:
        instant = f"try_strptime({col}, '%m/%d/%Y %I:%M:%S %p')"
        body = f"(regexp_full_match({col}, {_q(_US)}) and coalesce({_between(instant, latest)}, false))"
    elif f.kind == DATE:
        instant = f"try_strptime({col}, '%Y-%m-%d')"
        body = f"(regexp_full_match({col}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') and coalesce({_between(instant, latest)}, false))"
    elif f.kind == INT:
        bounds = []
        if f.min is not None:
            bounds.append(f"try_cast({col} as hugeint) >= {f.min:g}")
        if f.max is not None:
            bounds.append(f"try_cast({col} as hugeint) <= {f.max:g}")
        body = "(" + " and ".join([f"regexp_full_match({col}, '-?[0-9]{{1,18}}')", *bounds]) + ")"
    elif f.kind == BOOL:
        body = f"regexp_full_match({col}, '(?i)(true|false|yes|no|1|0)')"
    else:
        return "false"
    if f.not_empty:
        return f"(not {empty} and coalesce({body}, false))"
    return f"({empty} or coalesce({body}, false))"


def plain_address(col: str) -> str:
    """True when `normalize_email(col)` is simply `lower(col)` with no problem."""
    return (f"(regexp_full_match({col}, {_q(PLAIN_ADDRESS)}) and length({col}) <= 254 "
            f"and length(split_part({col}, '@', 1)) <= 64)")


# JSON text DuckDB's reader accepts but Python's json.loads rejects or reads otherwise, found by hand
# (duckdb 2.0.1, yyjson): trailing commas, `inf`/`nan` in any case (Python takes only `NaN`, `Infinity`),
# integers of more than 4300 digits (Python's int limit), nesting near Python's recursion limit; and \uD800-
# \uDFFF escapes (lone surrogates: DuckDB refuses them, Python reads them). Matching is on the text, inside
# strings too: a false alarm only sends the document to Python. Whitespace may also be escaped (\n, \r, \t): JSON
# held in a string of the document is then covered as well.
_WS = r"(?:[ \t\r\n]|\\[nrt])*"
# And numbers the two write differently as text (a number in a text field or in `_extra`): Python's repr
# switches to an exponent at 1e16 and below 1e-4 (1e+16, 1e-05), DuckDB at other sizes (10000000000000000.0,
# 0.00001, 2e22), and 1e400 is inf in Python. A number written with an exponent, with 16 or more digits before
# its point, or starting 0.0000 goes to Python.
_ODD_NUMBER = r"-?(?:[0-9]+(?:\.[0-9]+)?[eE]|[0-9]{16,}\.|0\.0000)"
# One pattern per character the odd text follows: RE2 searches faster from a literal first character than from
# a class, and the one pattern with `[\[:,]` took twice as long (0.42 against 0.21 s per 320 k SendGrid
# events, one thread; the same matches on 20 k random strings of JSON punctuation).
_ODD_JSON = [rf",{_WS}[\]}}]",
             *(rf"\{c}{_WS}(?:[-+]?(?:[iI][nN][fF]|[nN][aA][nN])|{_ODD_NUMBER})" for c in "[:,")]
_MAX_OPENERS = 400  # more `[`/`{` than this and Python's json.loads might run out of recursion


def json_nesting_ok(col: str) -> str:
    """True when JSON text `col` has too few `[`/`{` to come near Python's recursion limit."""
    openers = f"strlen({col}) - strlen(replace(replace({col}, '{{', ''), '[', ''))"
    return f"(strlen({col}) <= {_MAX_OPENERS} or {openers} <= {_MAX_OPENERS})"


def json_document_ok(col: str) -> str:
    """The checks of `json_text_ok` that one document of a file needs on its own text: nesting, and no integer
    of more than 4300 digits (found as a run of 1000 digits, in text long enough to hold one)."""
    return f"({json_nesting_ok(col)} and (strlen({col}) <= 4300 or not regexp_matches({col}, '[0-9]{{1000}}')))"


def json_text_ok(col: str, document: bool = True) -> str:
    """True only when DuckDB reads JSON text `col` exactly as Python's json.loads does (valid, no BOM, none
    of the readings above). `document=False` leaves out `json_document_ok`, for the text of a whole file of
    documents: its brackets add up across documents, and a run of digits lies inside one document, where
    looking for it costs nothing in text too short to hold one (on a 2 MB file of SendGrid events it took half
    of this check, 9 of 18 ms). Check each document with `json_document_ok` then."""
    return (f"(json_valid({col}) and not contains({col}, chr(65279)) "
            f"and not (contains({col}, '\\u') and regexp_matches({col}, '\\\\u[dD][89a-fA-F]')) "
            + "".join(f"and not regexp_matches({col}, {_q(odd)}) " for odd in _ODD_JSON)
            + (f"and {json_document_ok(col)})" if document else ")"))
