"""Folding text for free-text search, shared by the search itself and the stores' index of it.

The stores keep each asset's :func:`search_text` in a column so a text search can be answered
in SQL; the search checks the same words in Python. Both must fold alike, so both use this.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def fold_text(text: str) -> str:
    """Fold text for searching: accents and case removed, punctuation turned into spaces.

    Parameters
    ----------
    text : str
        Any text, such as a name, a description or a search term.

    Returns
    -------
    str
        Lower-case words separated by single spaces, e.g. ``"Café—Bar"`` gives
        ``"cafe bar"``. Letters of every script are kept (unlike
        :func:`~assetmap.domain.asset.normalise_name`, which keeps only a-z and digits).
    """
    folded = text.casefold()
    # Most names and descriptions are plain ASCII, which has no accents to strip; a filtered
    # 50 km search folds a quarter of a million of them.
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def search_text(name: str, description: str) -> str:
    """An asset's folded name and description, each word preceded by a space.

    A search word matches when ``" " + word`` occurs in it: the start of a word, so "lib"
    finds "Library" but "rary" does not.
    """
    return " " + fold_text(f"{name} {description}")


def matches_words(text: str, words: tuple[str, ...] | list[str]) -> bool:
    """Whether every folded search word starts a word of ``text`` (a :func:`search_text`)."""
    return all(" " + word in text for word in words)
