"""Text compared as people compare it: case, accents and runs of spaces do not count.

``fold("  Müller  Logistik ")`` is ``"muller logistik"``: search boxes, pickers and
near-duplicate names use it, so `muller` finds `Müller` and `Château` is `chateau`.
"""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d"})


def fold(text: str) -> str:
    """Case-folded, accents dropped, whitespace runs as one space, trimmed."""
    plain = text.casefold()
    if plain.isascii():  # (ASCII has nothing to replace or decompose: most names)
        return " ".join(plain.split())
    # word by word (whitespace separates what decomposition and case folding change,
    # so the words fold alone), each distinct word once: a TUI search folds 100,000
    # names, mostly of the same few thousand words
    folded = []
    for word in plain.split():
        done = _WORDS.get(word)
        if done is None:
            done = _fold_word(word)
            if len(_WORDS) < _KEEP:
                _WORDS[word] = done
        if done:
            folded.append(done)
    return " ".join(folded)


_WORDS: dict[str, str] = {}
_KEEP = 100_000  # words remembered at most


def _fold_word(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.translate(_EXTRA))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())
