"""Labels made short for segment names without cutting a word or hiding one.

A label shortened with an ellipsis in its middle becomes ambiguous ("days since…
purchase" for both the first and the last purchase), and one cut inside a word reads
as a typo: :func:`abbreviate` drops joining words, then abbreviates words with a full
stop, then keeps the leading words (short initials for a short label). Pure functions on
strings; nothing here imports the rest of custseg.
"""

from __future__ import annotations

__all__ = ["MAX_INITIALS", "abbreviate"]

MAX_INITIALS = 5
"""Words a label may have for its initials to stand for it ("AMBO"); a longer label keeps
its leading words instead."""

_JOINING_WORDS = frozenset(
    [
        *("a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "per"),
        *("that", "the", "to", "which", "with"),
        # Auxiliaries of a data dictionary's sentence ("months the customer has stayed"):
        # a label kept to its leading words should not end on one.
        *("has", "have", "had", "is", "are", "was", "were"),
    ]
)


_MOST_ABBREVIATED = 2
"""Words of a label shortened to four letters and a full stop, at most."""


def abbreviate(text: str, limit: int) -> str:
    """``text`` made to fit ``limit`` characters without cutting a word or dropping one.

    Labels shortened with an ellipsis in their middle become ambiguous ("days since…
    purchase" for both the first and the last purchase); segment names use this instead.

    Parameters
    ----------
    text : str
        Words separated by spaces.
    limit : int
        Largest length of the result (at least 4).

    Returns
    -------
    str
        ``text`` unchanged when it fits. Else without the words that only join others
        (``at``, ``of``, ``with``, ``has``...); else, longest words first, up to two words
        of more than five letters are abbreviated to their first four letters and a full
        stop (``"days since first purchase"`` -> ``"days since first purc."``) when that
        makes the text fit; else its leading words, the next one abbreviated when only
        that fits (the first word alone beside words with digits: ``"quarterly
        behavioural indicator computed by ... 006"`` -> ``"quarterly 006"``); the
        initials of a label of at most :data:`MAX_INITIALS` words when fewer than two of
        its words fit (``"average monthly balance outstanding"`` -> ``"AMBO"``); else the
        words that fit, from the first (a single word too long is abbreviated with a full
        stop).
        The result never contains an ellipsis. A reader cannot decode twenty initials
        ("ABKOTCAAMED..."); leading words say what the column is about, and the report
        lists the full names.
    """
    words = str(text).split()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    # Words that only join others ("at", "of") go first, then long words lose their end.
    short = [w for w in words if w.casefold() not in _JOINING_WORDS] or list(words)
    if len(" ".join(short)) <= limit:
        return " ".join(short)
    # Two shortened words still read ("days since first purc."); four do not ("numb.
    # visi. phys. branch loca."): then the leading words say more.
    abbreviated = list(short)
    longest = sorted(range(len(short)), key=lambda j: (-len(short[j]), j))
    for i in [j for j in longest if len(short[j]) > 5 and short[j].isalpha()][:_MOST_ABBREVIATED]:
        abbreviated[i] = short[i][:4] + "."
        if len(" ".join(abbreviated)) <= limit:
            return " ".join(abbreviated)
    # Words with a digit tell similar columns apart; "add-ons" is a word like any other.
    numbers = [w for w in words if any(c.isdigit() for c in w)]
    letters = [w for w in words if not any(c.isdigit() for c in w)]
    # With numbers the number tells similar columns apart ("indicator 006", "... 008"):
    # one word says what they count, and a name keeps room for two of them.
    fitting = _leading_words(
        [w for w in letters if w.casefold() not in _JOINING_WORDS] or letters,
        limit - len(" ".join(numbers)) - (1 if numbers else 0),
    )
    leading = fitting[: 1 if numbers else None]
    if len(fitting) < 2 and 0 < len(letters) <= MAX_INITIALS:
        candidate = " ".join(["".join(w[0].upper() for w in letters), *numbers])
        if len(candidate) <= limit:
            return candidate
    if leading:
        return " ".join([*leading, *numbers])
    out: list[str] = []
    for word in short:
        if len(" ".join([*out, word])) > limit:
            break
        out.append(word)
    return " ".join(out) if out else short[0][: max(1, limit - 1)] + "."


def _leading_words(words: list[str], room: int) -> list[str]:
    """The first ``words`` within ``room`` characters, the next one abbreviated
    ("behav.") when only that fits; empty when not even the first word fits."""
    out: list[str] = []
    for word in words:
        if len(" ".join([*out, word])) <= room:
            out.append(word)
            continue
        short = word[:4] + "."
        if len(word) > 5 and len(" ".join([*out, short])) <= room:
            out.append(short)
        break
    return out
