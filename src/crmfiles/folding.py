"""Text compared as people compare it: case, accents and runs of spaces do not count.

``fold("  Müller  Logistik ")`` is ``"muller logistik"``: search boxes, pickers and
near-duplicate names use it, so `muller` finds `Müller` and `Château` is `chateau`.
"""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})


def fold(text: str) -> str:
    """Case-folded, accents dropped, whitespace runs as one space, trimmed."""
    plain = text.casefold().translate(_EXTRA)
    if not plain.isascii():  # (ASCII has nothing to decompose: most names, every id)
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())
