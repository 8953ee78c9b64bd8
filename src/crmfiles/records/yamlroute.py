"""Which texts yaml_rs, the fast path of :func:`crmfiles.records.yamlio.parse`,
must hand to the reference path (PyYAML) instead of reading them itself.

Apart from :mod:`crmfiles.records.yamlio` because it is a table of its own: every
way yaml_rs reads a text unsafely or unlike YAML 1.2's core schema, each answered by
a cheap search.  The limits named here (MAX_DEPTH,
MAX_INT_DIGITS) are :mod:`crmfiles.records.yamlio`'s.  This module's content is part
of the facts cache's key (:func:`crmfiles.records.facts_file.definition`): a change
in the routing may change what a record reads as.
"""

from __future__ import annotations

import re

# What yaml_rs reads unsafely or unlike YAML 1.2, each rare in a record: characters
# YAML forbids (it cuts a string at NUL) and tabs (it refuses `key:<tab>value`,
# accepts tab indentation); tags (it ignores most, builds a set from !!set);
# directives; explicit keys; surrogate escapes; numbers YAML 1.2 reads as strings
# (1_000, _1, 0b10, 0X1F, +0x1F); an empty block scalar at the end ("\n" for "");
# nesting that may pass MAX_DEPTH (it overflows the C stack some 10,000 block levels
# down); integers that may pass MAX_INT_DIGITS (it reads them); empty keys; anchor
# names libyaml refuses, or defined twice; a document end marker; a lone CR.  Each
# test is a substring search or a regex with a literal prefix: a few microseconds a
# file.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
# the ASCII characters YAML allows, except tab
_ASCII_OK = bytes([10, 13, *range(32, 127)])
_TAG = re.compile(r"(?:^|[\s\[\]{},])!", re.MULTILINE)
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)
_EXPLICIT_KEY = re.compile(r"^[ -]*\?(?: |$)", re.MULTILINE)
_RS_NUMBER = re.compile(r"_[0-9_.eE+\-\s,\]}]|_$", re.MULTILINE)
# "\ud83d\ude9c": yaml_rs joins the pair, libyaml refuses a surrogate code point
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]")
_RADIX = re.compile(r"0[bBoOxX]")
_RS_RADIX = re.compile(r"(?<![\w.])[-+]?0[bBoOxX]")
_DEEP = re.compile(r"^[ ?:-]{24,}", re.MULTILINE)
_EMPTY_BLOCK_AT_END = re.compile(r"(?:^|[ :?-])[|>][-+0-9]*(?: +#.*)?$")
_MAX_FLOW_OPENERS = 24  # flow nesting deeper than this may pass MAX_DEPTH in yaml_rs
_SHORT = 8192  # a shorter text cannot nest deep enough to hurt yaml_rs
# a run of digits that may be an integer past MAX_INT_DIGITS (3,573 hex digits are
# 4,301 decimal ones); only a run's first character may start a match: linear time
_LONG_DIGITS = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{3500}")
# an empty key (`: x`, `- : x`) or a plain scalar that starts with `:` in a flow
# collection (`[:x]`): yaml_rs reads a null key or ':x', libyaml refuses both.  The
# pattern starts with its literal `:` (the lookbehinds come after), so it is fast.
_EMPTY_KEY = re.compile(r":(?:(?<![^\s\[{,]:)(?![^\s,\[\]{}])|(?<=[\[{,]:)|(?<=[\[{,][ \t]:))")
# an anchor or alias whose name libyaml would not read (`&a.b`, `&:`), and a
# document end marker (yaml_rs reads on after it, even a second document)
_ODD_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*](?=\S)(?![A-Za-z0-9_-]+(?:[\s,\]}]|$))", re.MULTILINE)
_DOC_END = re.compile(r"^\.\.\.(?:[ \t]|$)", re.MULTILINE)
# an anchor defined twice (libyaml refuses it) and a CR that ends a line alone
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&([\w-]+)", re.MULTILINE)
_LONE_CR = re.compile(r"\r(?!\n)")


def needs_reference(text: str) -> bool:
    """Whether ``text`` holds something that only the reference path reads right."""
    if text.isascii():
        if text.encode("ascii").translate(None, _ASCII_OK):
            return True
    elif "\t" in text or _CONTROL.search(text):
        return True
    if ("!" in text and _TAG.search(text)) or ("%" in text and _DIRECTIVE.search(text)):
        return True
    if ("?" in text and _EXPLICIT_KEY.search(text)) or _RS_NUMBER.search(text):
        return True
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        return True
    if (_RADIX.search(text) and _RS_RADIX.search(text)) or _flow_may_nest_deep(text):
        return True
    if ("        " in text or "- - " in text or len(text) > _SHORT) and _DEEP.search(text):
        return True
    if len(text) >= 3500 and _LONG_DIGITS.search(text):
        return True
    if _EMPTY_KEY.search(text):
        return True
    if ("&" in text or "*" in text) and _ODD_ANCHOR.search(text):
        return True
    if "&" in text and _twice(_ANCHOR.findall(text)):
        return True
    if "\r" in text and _LONE_CR.search(text):
        return True
    if "..." in text and _DOC_END.search(text):
        return True
    last = text.rstrip().rpartition("\n")[2]
    return ("|" in last or ">" in last) and bool(_EMPTY_BLOCK_AT_END.search(last))


def _twice(names: list[str]) -> bool:
    return len(names) != len(set(names))


_QUOTE_START = re.compile(r"(?:^|[\s\[{,:?])[\"']", re.MULTILINE)
_COMMENT = re.compile(r"(?:^|(?<=\s))#[^\n]*", re.MULTILINE)
_FLOW_BRACKET = re.compile(r"[\[\]{}]")


def _flow_may_nest_deep(text: str) -> bool:
    """Whether flow collections may nest more than ``_MAX_FLOW_OPENERS`` deep: an
    upper bound on the depth, from the brackets.  With no quoted scalar in the text
    (none starts where a token can) and comments dropped, every ``]``/``}`` inside a
    flow collection closes one (a plain scalar there cannot hold one), and one
    outside any flow collection is counted at depth 0 at worst: so the running count,
    never below 0, is never less than the true depth.  A quoted scalar could hide a
    closing bracket: then every opener counts, as if all were nested."""
    if text.count("[") + text.count("{") <= _MAX_FLOW_OPENERS:
        return False
    if _QUOTE_START.search(text):
        return True
    depth = 0
    for bracket in _FLOW_BRACKET.findall(_COMMENT.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > _MAX_FLOW_OPENERS:
                return True
        elif depth:
            depth -= 1
    return False
