"""Labels made short for segment names without cutting a word or hiding one.

A label shortened with an ellipsis in its middle becomes ambiguous ("days since…
purchase" for both the first and the last purchase), and one cut inside a word reads
as a typo: :func:`abbreviate` drops joining words, then abbreviates words with a full
stop, then falls back to initials. Pure functions on strings; nothing here imports the
rest of custseg.
"""

from __future__ import annotations

__all__ = ["abbreviate"]

_JOINING_WORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "in", "of", "on", "per", "the", "to"]
)


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
        (``at``, ``of``...); else, longest words first, words of more than five letters
        are abbreviated to their first four letters and a full stop (``"days since
        first purchase"`` -> ``"days since first purc."``) until the text fits; else the
        initials of its words in capitals, words with digits kept
        (``"quarterly behavioural indicator ... 006"`` -> ``"QBI... 006"``); else the
        words that fit, from the first (a single word too long is abbreviated with a
        full stop). The result never contains an ellipsis.
    """
    words = str(text).split()
    if len(" ".join(words)) <= limit:
        return " ".join(words)
    # Words that only join others ("at", "of") go first, then long words lose their end.
    short = [w for w in words if w.casefold() not in _JOINING_WORDS] or list(words)
    if len(" ".join(short)) <= limit:
        return " ".join(short)
    for i in sorted(range(len(short)), key=lambda j: (-len(short[j]), j)):
        if len(short[i]) > 5 and short[i].isalpha():
            short[i] = short[i][:4] + "."
            if len(" ".join(short)) <= limit:
                return " ".join(short)
    initials = "".join(w[0].upper() for w in words if w.isalpha())
    kept = [initials] if initials else []
    kept += [w for w in words if not w.isalpha()]
    candidate = " ".join(kept)
    if len(candidate) <= limit:
        return candidate
    out: list[str] = []
    for word in short:
        if len(" ".join([*out, word])) > limit:
            break
        out.append(word)
    return " ".join(out) if out else short[0][: max(1, limit - 1)] + "."
