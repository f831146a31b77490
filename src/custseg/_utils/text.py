"""Words for people: counts with their plural, readable column names, shortened labels.

Messages, names and reports all read better when ``1 row`` is not ``1 rows``, when
``NumStorePurchases`` reads as ``num store purchases``, when a value prints as ``3.0``
rather than ``np.float64(3.0)`` and when a 130-character column name is cut at a word
boundary instead of overflowing a card or a figure. These helpers are pure functions on
strings and numbers; nothing here imports the rest of custseg.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "columns_matching",
    "count",
    "plain",
    "readable_name",
    "shorten",
    "shorten_middle",
    "shorten_words",
]

ELLIPSIS = "…"
"""What stands for the text a shortened label leaves out."""

# Boundaries inside a column name: separators, then lower->Upper, Upper->Upper+lower
# ("CLVScore" -> "CLV Score") and letter<->digit ("Cmp1" -> "Cmp 1").
_SEPARATORS = re.compile(r"[\s_\-\.:/]+")
_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)


def count(n: int, word: str, plural: str | None = None) -> str:
    """A count with the right form of its noun: ``1 row``, ``2 rows``, ``8,950 rows``.

    Parameters
    ----------
    n : int
        The number.
    word : str
        The noun in the singular.
    plural : str, optional
        The plural when it is not ``word + "s"`` (``"categories"``).

    Returns
    -------
    str
        ``n`` with thousands separators, a space and the noun.
    """
    number = int(n)
    noun = word if number == 1 else (plural if plural is not None else word + "s")
    return f"{number:,} {noun}"


def plain(value: Any) -> Any:
    """``value`` with numpy scalars turned into Python ones, for messages.

    ``repr(np.float64(3.0))`` is ``np.float64(3.0)`` with numpy 2; a message should
    quote ``3.0``. Tuples and lists are converted element by element; anything else
    is returned unchanged.

    Parameters
    ----------
    value : object
        A value about to be quoted in a message.

    Returns
    -------
    object
        The same value, with numpy scalars replaced by ``int``, ``float`` or ``bool``.
    """
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    item = getattr(value, "item", None)
    # numpy scalars (and 0-d arrays) have .item() and a dtype; Python numbers have neither.
    if callable(item) and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def readable_name(name: str) -> str:
    """A column name as words: split at underscores and CamelCase, in lower case.

    Words written in capitals inside a mixed-case name are kept (``"avgCLV_usd"`` ->
    ``"avg CLV usd"``); a name written all in capitals is lowered entirely
    (``"CASH_ADVANCE"`` -> ``"cash advance"``).

    Parameters
    ----------
    name : str
        A column name.

    Returns
    -------
    str
        The words of the name separated by single spaces, e.g. ``"NumStorePurchases"``
        -> ``"num store purchases"``, ``"MntWines"`` -> ``"mnt wines"``,
        ``"AcceptedCmp1"`` -> ``"accepted cmp 1"``. A name without letters or digits
        is returned stripped.
    """
    text = str(name).strip()
    words = [w for part in _SEPARATORS.split(text) for w in _CAMEL.split(part) if w]
    if not words:
        return text
    all_caps = text.upper() == text
    out = []
    for word in words:
        keep = not all_caps and len(word) >= 2 and word.isupper() and word.isalpha()
        out.append(word if keep else word.lower())
    return " ".join(out)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis.

    Parameters
    ----------
    text : str
        Words separated by spaces.
    limit : int
        Largest length of the result (at least 2).

    Returns
    -------
    str
        ``text`` unchanged when it fits; else its longest run of whole words that fits
        with ``"…"`` appended (a single word longer than the limit is cut inside).
        Trailing commas and spaces before the ellipsis are dropped.
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    room = max(1, limit - len(ELLIPSIS))
    cut = text[: room + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 else text[:room]
    return head.rstrip(" ,;:·-" + ELLIPSIS) + ELLIPSIS


def shorten_words(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping its first and last words.

    Long column names often differ only in their last word (``... indicator 003``,
    ``... indicator 004``): this keeps as many leading words as fit, an ellipsis and
    the last word, so that shortened labels stay apart.

    Parameters
    ----------
    text : str
        Words separated by spaces.
    limit : int
        Largest length of the result (at least 5).

    Returns
    -------
    str
        ``text`` unchanged when it fits; else ``"<first words>… <last word>"``, or
        :func:`shorten` of it when its last word is too long to keep.
    """
    words = str(text).split()
    joined = " ".join(words)
    if len(joined) <= limit:
        return joined
    last = words[-1] if len(words) > 1 else ""
    room = limit - len(ELLIPSIS) - 1 - len(last)
    if not last or room < min(len(words[0]), limit // 3):
        return shorten(joined, limit)
    head: list[str] = []
    for word in words[:-1]:
        if len(" ".join([*head, word])) > room:
            break
        head.append(word)
    if not head:
        head = [words[0][:room]]
    return f"{' '.join(head)}{ELLIPSIS} {last}"


def shorten_middle(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters by dropping its middle.

    Long column names often differ only at their end (``..._v1``, ``..._v2``); keeping
    the start and the end keeps them apart where :func:`shorten` would not.

    Parameters
    ----------
    text : str
        Any text, e.g. a column name.
    limit : int
        Largest length of the result (at least 3).

    Returns
    -------
    str
        ``text`` unchanged when it fits, else its first and last characters around
        ``"…"`` (the start gets the extra character).
    """
    text = str(text)
    if len(text) <= limit:
        return text
    room = max(2, limit - len(ELLIPSIS))
    head = room - room // 2
    tail = room // 2
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


def columns_matching(patterns: Iterable[str], columns: Iterable[str]) -> list[str]:
    """The columns whose name matches one of ``patterns``, in the order of ``columns``.

    Names and patterns are compared without case, spaces, underscores, hyphens or dots,
    so ``"Num*Purchases"`` matches ``NumWebPurchases`` and ``num_web_purchases``;
    ``*`` stands for any run of characters and ``?`` for one.

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
    compiled = [_normalise(p) for p in patterns]
    return [c for c in columns if any(fnmatch.fnmatchcase(_normalise(c), p) for p in compiled)]


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-\.]+", "", str(name)).casefold()
