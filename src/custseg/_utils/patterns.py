"""Column-name patterns: which of a table's columns a playbook or a recipe means.

Playbooks and roll-up recipes find columns by name (``"Num*Purchases"``,
``"*days*since*"``), whatever the table's naming style. :func:`columns_matching` reads
a name by its words (separators and capitals) so that a pattern's word matches a word
of the name, not letters inside another one (``count`` in ``account``), and a ``*``
between two words spans a word or two, not a sentence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = ["MAX_PATTERN_GAP", "columns_matching"]


def columns_matching(patterns: Iterable[str], columns: Iterable[str]) -> list[str]:
    """The columns whose name matches one of ``patterns``, in the order of ``columns``.

    Names and patterns are compared without case, spaces, underscores, hyphens or dots,
    so ``"Num*Purchases"`` matches ``NumWebPurchases`` and ``num_web_purchases``.
    ``?`` stands for one character; a ``*`` at either end for any run of them, and a
    ``*`` between two words for at most :data:`MAX_PATTERN_GAP` characters (a word or
    two): ``"*customer*for*"`` finds ``customer_for_years`` but not a sentence that
    says "customer" and, eight words later, "for". When a name shows its words (by
    separators or capitals), a word of the pattern after a ``*`` starts one of them:
    ``"*count*"`` finds ``Total_Count`` and ``visitCount`` but not ``Account length``.
    A name with neither separators nor capitals inside (``totalcount``, as PostgreSQL
    folds ``TotalCount``; ``Contract``) does not show its words, and is matched anywhere.

    Parameters
    ----------
    patterns : iterable of str
        Column names or patterns.
    columns : iterable of str
        Column names.

    Returns
    -------
    list of str
        The matching columns, each once.
    """
    keys = [_pattern_key(p) for p in patterns]
    found = []
    for column in columns:
        words = _words(column)
        whole = _WORD_BREAK in words
        if any(_pattern(key, whole).fullmatch(words) for key in keys):
            found.append(column)
    return found


MAX_PATTERN_GAP = 16
"""Characters a ``*`` between two words of a column pattern stands for, at most."""

_WORD_BREAK = "\x1f"
_SEPARATORS = re.compile(r"[\s_\-\.]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")


def _words(name: str) -> str:
    """``name`` in lower case with one break character between its words."""
    marked = _SEPARATORS.sub(_WORD_BREAK, _CAMEL.sub(_WORD_BREAK, str(name)))
    return marked.strip(_WORD_BREAK).casefold()


def _pattern_key(pattern: str) -> str:
    return _SEPARATORS.sub("", str(pattern)).casefold()


@functools.lru_cache(maxsize=1024)
def _pattern(key: str, whole_words: bool) -> re.Pattern[str]:
    """The regular expression of a pattern (see :func:`columns_matching`) over
    :func:`_words` of a name; ``whole_words`` when the name shows its words."""
    tokens = [t for t in re.split(r"(\*+|\?)", key) if t]
    last = len(tokens) - 1
    brk = re.escape(_WORD_BREAK)
    pieces = []
    for i, token in enumerate(tokens):
        if token == "?":
            pieces.append(f"[^{brk}]")
        elif token.startswith("*"):
            pieces.append(".*" if i in (0, last) else f".{{0,{MAX_PATTERN_GAP}}}")
        else:
            if whole_words and i > 0 and tokens[i - 1].startswith("*"):
                pieces.append(f"(?<![^{brk}])")  # after a star: at the start of a word
            # A word of the pattern may run over a break ("AcceptedCmp" in "accepted cmp").
            pieces.append(f"{brk}?".join(re.escape(ch) for ch in token))
    return re.compile("".join(pieces), re.DOTALL)
