"""Words for people, and text from the data kept as text.

Messages, names and reports all read better when ``1 row`` is not ``1 rows``, when
``NumStorePurchases`` reads as ``num store purchases``, when a value prints as ``3.0``
rather than ``np.float64(3.0)`` and when a 130-character column name is cut at a word
boundary instead of overflowing a card or a figure.

Column names and category levels come from the user's data, which nobody vetted: a
name can hold Markdown or HTML (``<script>``, ``a|b``), a spreadsheet formula
(``=HYPERLINK(...)``) or characters that reorder or hide what a reader sees (U+202E).
:func:`display_name` cleans a name before a person reads it, :func:`escape_markdown`
and :func:`escape_html` keep it text in a page, and :func:`neutralise_formula`,
:func:`neutralise_formulas` (pandas) and :func:`neutralise_formulas_arrow` (Arrow) keep
it text in a spreadsheet that opens a CSV. These helpers are pure functions on strings,
numbers and tables; nothing here imports the rest of custseg.
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "FORMULA_PREFIXES",
    "count",
    "display_name",
    "escape_html",
    "escape_markdown",
    "neutralise_formula",
    "neutralise_formulas",
    "neutralise_formulas_arrow",
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
# In a name written with spaces ("Spending Score (1-100)", "Month-to-month") a hyphen is
# part of the words; so is one between digits ("Score_(1-100)").
_SEPARATORS_KEEPING_HYPHENS = re.compile(r"[\s_\.:/]+|(?<!\d)-+|-+(?!\d)")
_SPACED_SEPARATORS = re.compile(r"[\s_\.:/]+")
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
        ``"AcceptedCmp1"`` -> ``"accepted cmp 1"``. Parentheses are kept, and so are
        hyphens in a name written with spaces or between digits (``"Spending Score
        (1-100)"`` -> ``"spending score (1-100)"``); elsewhere a hyphen separates words
        (``"Year-Birth"`` -> ``"year birth"``). A name without letters or digits
        is returned stripped. Bidirectional and control characters are removed first
        (:func:`display_name`): segment names and traits are built from these words.
    """
    text = display_name(name).strip()
    separators = _SPACED_SEPARATORS if " " in text else _SEPARATORS_KEEPING_HYPHENS
    words = [w for part in separators.split(text) for w in _CAMEL.split(part) if w]
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

    ``text`` and ``limit`` (at least 5 here) are those of :func:`shorten`. The result is
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


# --- Text from the data, shown to people -------------------------------------------

# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the
# marks (U+200E, U+200F, U+061C): they reorder what a reader sees ("name\u202eevil"
# reads "namelive"), so a name could pass for another. Removed, not replaced.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
# Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F). Those that
# separate words (tab, line feed, vertical tab, form feed, carriage return, the file,
# group, record and unit separators, next line) and the line and paragraph separators
# become a space, so that "tab\tname" reads "tab name"; the others are removed.
_SPACING_CONTROLS = "\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029"
_SPACING = re.compile(f"[{_SPACING_CONTROLS}]")
_INVISIBLE = re.compile(f"[{_BIDI}\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def display_name(text: Any) -> str:
    """``text`` as a person may read it: no bidirectional or control characters.

    For every name shown to people (report, summary, segment names, figures, log
    lines). Bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E,
    U+2066-U+2069, U+200E, U+200F, U+061C) and the control characters of Unicode
    category Cc are removed; those that separate words (tab, newlines, the
    information separators, U+2028, U+2029) become a space.

    Parameters
    ----------
    text : object
        A name, usually a column name or a category level (converted with ``str``).

    Returns
    -------
    str
        The cleaned text; ``"name\\u202eevil"`` -> ``"nameevil"``, ``"tab\\tname"`` ->
        ``"tab name"``. Text without such characters is returned unchanged.
    """
    value = str(text)
    if value.isprintable():  # the common case: one C-level scan, no regex
        return value
    return _INVISIBLE.sub("", _SPACING.sub(" ", value))


# Backslash escapes for Markdown's inline syntax: emphasis (* _ ~), code (`), links
# ([ ]), headings (#), table cells (|) and the backslash itself. < > & become
# entities rather than backslash escapes: "\<" is still a tag for Markdown.pl and
# some other renderers, "&lt;" is text for all of them.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
_MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# At the start of a line these open a list, a heading or a thematic break.
_MARKDOWN_BLOCK_START = re.compile(r"^(\s*(?:\d+)?)([-+=.)])")


def escape_markdown(text: Any, *, line_start: bool = False) -> str:
    """``text`` as literal text in Markdown, for a table cell, a heading or a paragraph.

    The text is first cleaned with :func:`display_name` (a newline would end a table
    row; the remaining whitespace controls become spaces). Then ``\\ ` * _ [ ] # | ~``
    get a backslash and ``& < >`` become ``&amp; &lt; &gt;``: no HTML element or entity
    survives, whichever Markdown renderer reads the file.

    Parameters
    ----------
    text : object
        Untrusted text (converted with ``str``).
    line_start : bool, default=False
        The text starts a line (a paragraph, a list item's text): a leading ``-``,
        ``+``, ``=``, ``.`` or ``1.`` is escaped too, so that it never opens a list, a
        heading or a rule. Inside a line (a table cell, after a heading's ``#``) they
        are plain text already.

    Returns
    -------
    str
        One line of Markdown that renders as ``text`` (cleaned).

    Examples
    --------
    >>> escape_markdown("<b>a|b</b> **x**")
    '&lt;b&gt;a\\\\|b&lt;/b&gt; \\\\*\\\\*x\\\\*\\\\*'
    """
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", display_name(text))
    value = "".join(_MARKDOWN_ENTITIES.get(c, c) for c in value)
    if line_start:
        value = _MARKDOWN_BLOCK_START.sub(r"\1\\\2", value, count=1)
    return value


def escape_html(text: Any) -> str:
    """``text`` as HTML text or attribute value: cleaned (:func:`display_name`), then
    ``& < > " '`` as entities. The report's templates get the same through Jinja2's
    autoescaping; this is for HTML built outside a template."""
    return html.escape(display_name(text), quote=True)


# --- Text from the data, written to CSV --------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP)."""

_FORMULA_BYTES = frozenset(ord(c) for c in FORMULA_PREFIXES)
_Frame = TypeVar("_Frame", "pa.Table", "pa.RecordBatch")


def neutralise_formula(value: Any) -> Any:
    """A CSV cell that a spreadsheet cannot read as a formula.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` (OWASP's advice for CSV injection): Excel, LibreOffice and Google
    Sheets then show the text instead of evaluating it. Anything that is not a
    ``str`` (numbers, including negative ones, missing values) is returned unchanged.

    Parameters
    ----------
    value : object
        One cell.

    Returns
    -------
    object
        ``"'" + value`` for text that starts like a formula, else ``value``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The text columns and column names of ``frame`` neutralised for CSV.

    Every text cell (object, string or category column) and every column name that
    starts like a formula gets a leading ``'`` (see :func:`neutralise_formula`);
    numeric columns are never touched, so ``-2.5`` stays a number. Parquet files keep
    the values exactly: call this only on what becomes a CSV.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table about to be written as CSV (not modified).

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when nothing needed a change, else a copy with the changes.
    """
    import pandas as pd

    out = frame
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        changed = _neutralised_series(values, pd)
        if changed is not None:
            if out is frame:
                out = frame.copy()
            out.isetitem(position, changed.array)
    names = [neutralise_formula(c) for c in out.columns]
    if names != list(out.columns):
        out = out.set_axis(names, axis="columns")
    return out


def _neutralised_series(values: pd.Series, pd: Any) -> pd.Series | None:
    """The neutralised column, or ``None`` when it holds no formula-like text."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        renamed = [neutralise_formula(c) for c in categories]
        if renamed == list(categories):
            return None
        if len(set(renamed)) == len(renamed):
            return values.cat.rename_categories(renamed)
        values = values.astype(object)  # "'=x" already a level: renaming would merge
    elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return None
    try:
        hits = values.str.startswith(FORMULA_PREFIXES, na=False)
    except AttributeError:  # an object column without any text (e.g. only None)
        return None
    hits = hits.astype(bool)
    if not hits.any():
        return None
    out = values.copy()
    out[hits] = "'" + values[hits].astype(str)
    return out


def neutralise_formulas_arrow(table: _Frame) -> _Frame:
    """The text columns and column names of an Arrow table neutralised for CSV.

    The Arrow twin of :func:`neutralise_formulas`, cheap enough for every chunk of a
    scored file: only ``string``, ``large_string`` and dictionary-of-string columns are
    read, and only their first byte per row (a gather through the offsets, no copy
    and no ``pyarrow.compute``); a column gets a new array only when one of its cells
    starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return. Numeric columns
    are never touched, whatever their sign.

    Parameters
    ----------
    table : pyarrow.Table or pyarrow.RecordBatch
        A table (or batch) about to be written as CSV.

    Returns
    -------
    pyarrow.Table or pyarrow.RecordBatch
        ``table`` itself when no cell and no column name starts like a formula, else a
        table of the same kind and schema types with those cells prefixed by ``'``.
    """
    import pyarrow as pa

    columns = list(table.columns)
    changed = False
    for i, column in enumerate(columns):
        new = _neutralised_arrow(column, pa)
        if new is not None:
            columns[i] = new
            changed = True
    names = [neutralise_formula(name) for name in table.column_names]
    if not changed and names == table.column_names:
        return table
    metadata = table.schema.metadata
    if isinstance(table, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, names=names, metadata=metadata)
    return pa.Table.from_arrays(columns, names=names, metadata=metadata)


def _neutralised_arrow(column: Any, pa: Any) -> Any:
    """A neutralised column (Array or ChunkedArray), or ``None`` if it needs no change."""
    if isinstance(column, pa.ChunkedArray):
        chunks = [_neutralised_arrow(chunk, pa) for chunk in column.chunks]
        if all(chunk is None for chunk in chunks):
            return None
        new = [c if n is None else n for c, n in zip(column.chunks, chunks, strict=True)]
        return pa.chunked_array(new, type=column.type)
    kind = column.type
    if pa.types.is_dictionary(kind):
        dictionary = _neutralised_arrow(column.dictionary, pa)
        if dictionary is None:
            return None
        return pa.DictionaryArray.from_arrays(column.indices, dictionary, ordered=kind.ordered)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _prefixed_strings(column, pa)
    if pa.types.is_string_view(kind):
        new = _prefixed_strings(column.cast(pa.large_string()), pa)
        return None if new is None else new.cast(kind)
    return None


def _prefixed_strings(array: Any, pa: Any) -> Any:
    """``array`` (string or large_string) with ``'`` before formula-like cells, or None."""
    import numpy as np

    n = len(array)
    if n == 0:
        return None
    validity, offsets_buffer, data_buffer = array.buffers()
    width = np.dtype(np.int64 if pa.types.is_large_string(array.type) else np.int32)
    offsets = np.frombuffer(
        offsets_buffer, dtype=width, count=n + 1, offset=array.offset * width.itemsize
    )
    if data_buffer is None or offsets[-1] == offsets[0]:
        return None  # only empty strings (or nulls)
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts = offsets[:-1]
    # Two gathers: the first byte of each cell, then its entry in a 256-entry table.
    # A 5M-row column of identifiers costs milliseconds and no copy of the text. A
    # multi-byte UTF-8 character never starts with an ASCII byte, so testing the byte
    # tests the character. An empty cell reads its neighbour's first byte (or, at the
    # end, the last byte): such false hits are removed below, when there is any hit.
    hits = np.take(_formula_bytes(), np.take(data, starts, mode="clip"))
    if not hits.any():
        return None
    hits &= offsets[1:] > starts
    valid = None
    if array.null_count:
        valid = np.unpackbits(
            np.frombuffer(validity, dtype=np.uint8), count=array.offset + n, bitorder="little"
        )[array.offset :].view(bool)
        hits &= valid
    if not hits.any():
        return None
    # Rebuild the cells from offset 0: each hit gains one byte, the quote, before its text.
    body = data[offsets[0] : offsets[-1]]
    new_data = np.insert(body, (starts[hits] - offsets[0]).astype(np.int64), ord("'"))
    new_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.diff(offsets).astype(np.int64) + hits, out=new_offsets[1:])
    kind = array.type
    if width.itemsize == 4 and new_offsets[-1] <= np.iinfo(np.int32).max:
        new_offsets = new_offsets.astype(np.int32)
    else:
        kind = pa.large_string()  # the quotes pushed a string array past 2 GiB
    mask = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        kind,
        n,
        [mask, pa.py_buffer(new_offsets), pa.py_buffer(new_data)],
        null_count=array.null_count,
    )


@functools.cache
def _formula_bytes() -> Any:
    """A 256-entry lookup: is this first byte one of :data:`FORMULA_PREFIXES`?"""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[sorted(_FORMULA_BYTES)] = True
    table.flags.writeable = False
    return table
