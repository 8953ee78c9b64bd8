"""The few fields history follows, read from one version of an opportunity file.

History reads every version of every opportunity: 30,000 texts for 10,000 records and
20,000 stage changes.  A full YAML parse costs ~50 us a text here, more than git takes
to produce it, so two cheaper readers come first.  Each gives up (``None``) whenever
the text holds anything it cannot read with certainty, and then the parser decides:

- :func:`scan` reads the top-level ``key: value`` lines of a text whose every
  column-0 line is blank, a comment, an indented line, a sequence item or a plain
  ``key:``, and whose quoted scalars and flow collections each close on their own
  line.  As :func:`~crmfiles.records.yamlio.parse` reads YAML, such a line is a key of
  the root mapping.  The needed values must be plain tokens (no quotes, anchors,
  aliases, tags or nulls) on a line of their own, and an amount given only by
  ``lines`` needs the parser.
- :func:`derive` reads a version from a neighbour the scan has vouched for (the same
  record one commit before or after): when the two texts differ only in whole
  top-level ``key: token`` lines, the fields are the neighbour's with those lines
  applied, and the new text is vouched for in turn.  A stage move is such a change,
  so most versions cost a few microseconds.

Tests hold the three to one answer on every example, bench and fuzz text the parser
reads.  On a text the parser refuses, the readers may still read the top-level fields:
history then shows what the file said.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from crmfiles.history.model import Fields
from crmfiles.money import CENT, decimal

NEEDED = ("kind", "stage", "status", "probability", "amount", "currency", "loss_reason", "closed")
_KEY_LINES = tuple((i, b"\n" + key.encode() + b":") for i, key in enumerate(NEEDED))

# a column-0 line the scan cannot vouch for: anything but blank, comment, indented, a
# sequence item, or a plain `key:` followed by a space or the line end (text prefixed "\n")
_ODD_TOP = re.compile(rb"\n(?![ \n#]|- |-\n|-\Z|[A-Za-z0-9_][A-Za-z0-9_.-]*:(?:[ \n]|\Z)|\Z)")
_FIRST_IS_KEY = re.compile(rb"(?:(?:[ ]*|#[^\n]*)\n)*[A-Za-z0-9_][A-Za-z0-9_.-]*:(?:[ \n]|\Z)")
_SINGLE = re.compile(rb"'(?:[^'\n]|'')*'")
_DOUBLE = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
# tokens YAML 1.2's core schema reads as something other than a string
_NOT_TEXT = re.compile(
    rb"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z|0x[0-9a-fA-F]+\Z|0o[0-7]+\Z"
)
_KEYWORDS = frozenset(b"true True TRUE false False FALSE null Null NULL".split())
_KEY_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_WORD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# a flow sequence after `key: ` that closes on its line, nothing in it to open another
# collection or a quoted scalar (what _closes_on_its_line finds of each such `[`)
_FLAT_LISTS = re.compile(rb": \[[^\n\[\]{}\"']*\][ ]*(?:\n|\Z)")
_DIGITS = b"0123456789"


Spans = tuple[tuple[int, int, int], ...]  # (value start, line end, field index), in text order


def read_fields(text: bytes) -> Fields | None:
    """The fields of one file's bytes; None when it is not a YAML mapping we can read."""
    return read(b"\n" + text)[0]


def read(lined: bytes) -> tuple[Fields | None, Spans | None]:
    """The fields of one text (given with a "\\n" in front), and where the scan found
    them: only a text with spans may serve :func:`derive` as a neighbour."""
    fast = scan(lined)
    if fast is not None:
        return fast
    from crmfiles.records.yamlio import ParseError, parse  # the rare text the scans refuse

    try:
        data = parse(lined[1:].decode("utf-8").removeprefix("\ufeff"))
    except (UnicodeDecodeError, ParseError):
        return None, None
    return (from_data(data) if isinstance(data, dict) else None), None


def from_data(data: dict[str, Any]) -> Fields:
    """The fields of a parsed record (the reference the readers are held to)."""
    amount = _cents(decimal(data.get("amount")))
    lines = data.get("lines") if amount is None and isinstance(data.get("lines"), list) else None
    probability = data.get("probability")
    return Fields(
        _text(data.get("kind")),
        _text(data.get("stage")),
        _text(data.get("status")),
        probability if isinstance(probability, int) and not isinstance(probability, bool) else None,
        amount,
        _text(data.get("currency")),
        _text(data.get("loss_reason")),
        data.get("closed") is True,
        lines or None,
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _cents(value: Decimal | None) -> str | None:
    if value is None:
        return None
    try:
        return str(value.quantize(CENT))
    except InvalidOperation:  # too many digits to quantize
        return str(value)


def scan(lined: bytes) -> tuple[Fields, Spans] | None:
    """The line scan of a whole text (given with a "\\n" in front); None whenever it
    cannot be certain."""
    text = lined[1:]
    if b"\t" in text or b"\r" in text or text[:3] == b"\xef\xbb\xbf":
        return None
    if _ODD_TOP.search(lined) or not _FIRST_IS_KEY.match(text):
        return None
    for char in b"\"'[{":
        if char in text and not _closes_on_its_line(text, char):
            return None
    values: list[Any] = [None, None, None, None, None, None, None, False]
    spans = _spans(lined)
    for start, end, i in spans:
        if lined[end + 1 : end + 2] in (b" ", b"-", b"\n") and _continued(lined, end + 1):
            return None
        value = _value(i, lined[start:end])
        if value is None:
            return None
        values[i] = value
    if values[4] is None and b"\nlines:" in lined:
        return None  # the amount comes from the lines
    return Fields(*values), spans


def _spans(lined: bytes) -> Spans:
    """Where each needed key's value is: from after its colon to its line's end."""
    found = []
    size = len(lined)
    for i, key in _KEY_LINES:
        at = lined.find(key)
        if at >= 0:
            start = at + len(key)
            end = lined.find(b"\n", start)
            found.append((start, size if end < 0 else end, i))
    found.sort()
    return tuple(found)


def _closes_on_its_line(text: bytes, char: int) -> bool:
    """Every quoted scalar or flow collection opened by ``char`` ends on its line."""
    if char == 0x5B and len(_FLAT_LISTS.findall(text)) == text.count(b"["):
        return True  # the usual `key: [a, b]`, every `[` of the text opening one
    at = text.find(char)
    while at >= 0:
        if at and text[at - 1] in _WORD:
            at = text.find(char, at + 1)  # inside a word (customer's): a plain scalar's
            continue
        line_start = text.rfind(b"\n", 0, at) + 1
        before = text[line_start:at].rstrip(b" ")
        line_end = text.find(b"\n", at)
        if line_end < 0:
            line_end = len(text)
        # a scalar starts after indentation, `- `, `: `, `? `, `[`, `{` or `,`; a quote
        # anywhere else is a character of a plain scalar
        if not before or before[-1] in b":-[{,?":
            if char == 0x27 or char == 0x22:  # ' or "
                match = (_SINGLE if char == 0x27 else _DOUBLE).match(text, at, line_end)
                if match is None:
                    return False
                at = match.end()
            else:
                rest = text[at:line_end]
                if (
                    rest.count(b"[") + rest.count(b"{") != rest.count(b"]") + rest.count(b"}")
                    or b'"' in rest
                    or b"'" in rest
                ):
                    return False
                at = line_end
        else:
            at += 1
        at = text.find(char, at)
    return True


def _continued(text: bytes, at: int) -> bool:
    """Whether the line at ``at`` (past blank lines) is indented or an item: it would
    continue the value of the line before it, or nest under it."""
    size = len(text)
    while at < size and text[at] == 0x0A:
        at += 1
    return at < size and text[at] in b" -"


_SEEN: dict[tuple[int, bytes], Any] = {}  # the same few values, read again and again


def _value(index: int, raw: bytes) -> Any:
    """A needed key's value as the core schema reads it; None when unsure.  Memoised:
    stage names, statuses and probabilities repeat, so most reads are one lookup, and
    equal values come back as one string object (the cache then stores each once)."""
    key = (index, raw)
    try:
        return _SEEN[key]
    except KeyError:
        pass
    value = _read_value(index, raw)
    if len(_SEEN) < 100_000:
        _SEEN[key] = value
    return value


def _read_value(index: int, raw: bytes) -> Any:
    value = raw.split(b" #", 1)[0].strip(b" ")
    if not value:
        return None  # null, or a nested value
    if index == 3:  # probability
        digits = value[1:] if value[:1] == b"-" else value
        return int(value) if digits.isdigit() else None
    if index == 4:  # amount
        digits = value[1:] if value[:1] == b"-" else value
        return _cents(Decimal(value.decode())) if digits.replace(b".", b"", 1).isdigit() else None
    if index == 7:  # closed
        return value == b"true" if value in (b"true", b"false") else None
    if value.translate(None, _KEY_CHARS) or value[0] in b".-" or value in _KEYWORDS:
        return None
    if value[0] in _DIGITS and _NOT_TEXT.match(value):
        return None
    return value.decode()


# A text the scan vouched for, cut at the values of the needed keys: the bytes before
# the first value, then for each value the value and the bytes up to the next one (a
# segment), whose field each value is, the fields, and each value's width.
Vouched = tuple[bytes, tuple[bytes, ...], tuple[int, ...], Fields, tuple[int, ...]]


def vouch(lined: bytes, spans: Spans, fields: Fields) -> Vouched:
    if not spans:
        return lined, (), (), fields, ()
    starts = [start for start, _, _ in spans]
    starts.append(len(lined))
    return (
        lined[: starts[0]],
        tuple([lined[start : starts[k + 1]] for k, (start, _, _) in enumerate(spans)]),
        tuple([i for _, _, i in spans]),
        fields,
        tuple([end - start for start, end, _ in spans]),
    )


def derive(known: Vouched, new_lined: bytes) -> Vouched | None:
    """A text from a neighbour the scan vouched for, when the two differ only in the
    values of needed top-level keys, each a plain token: every byte around those
    values is the neighbour's, so the new text is vouched for too.  None otherwise."""
    head, segments, indexes, old, widths = known
    if not new_lined.startswith(head):
        return None
    at = len(head)
    size = len(new_lined)
    last = len(segments) - 1
    changed: list[Any] | None = None
    now: list[bytes] = []
    now_widths: list[int] = []
    for k, segment in enumerate(segments):
        # the usual case first: this value and the bytes up to the next are the
        # neighbour's (a value runs to its line's end, so the bytes after it start a
        # line; the last segment runs to the end of the text)
        if new_lined.startswith(segment, at) and (k < last or at + len(segment) == size):
            at += len(segment)
            continue
        end = new_lined.find(b"\n", at)
        if end < 0:
            end = size
        gap = segment[widths[k] :]
        if not new_lined.startswith(gap, end):
            return None
        parsed = _value(indexes[k], new_lined[at:end])
        if parsed is None:
            return None
        if changed is None:
            changed = list(old)
            now = list(segments)
            now_widths = list(widths)
        changed[indexes[k]] = parsed
        now[k] = new_lined[at : end + len(gap)]
        now_widths[k] = end - at
        at = end + len(gap)
    if at != size:
        return None
    if changed is None:
        return known  # the same text
    # tuple.__new__ builds the NamedTuple in C
    return head, tuple(now), indexes, tuple.__new__(Fields, changed), tuple(now_widths)
