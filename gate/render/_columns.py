"""Text laid out in a terminal's columns: widths as a terminal shows them, cells and lines cut with an
ellipsis, prose wrapped, tables whose columns give way in turn until the rows fit.

A terminal shows an East Asian wide character (CJK, fullwidth forms, most emoji) in two columns and a
combining mark in none, so the widths here are counted in columns (by `wcwidth`, which follows the
Unicode tables a terminal does), not in characters: a package name in Chinese counted by its
characters fills twice the room it was given, and the terminal wraps the row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

ELLIPSIS = "…"
"""The mark of a cut: one column wide (East Asian "ambiguous", narrow outside CJK locales)."""


def _char_width(char: str) -> int:
    import wcwidth  # imported for text that is not ASCII only: 15-30 ms of every run's start

    return max(wcwidth.wcwidth(char), 0)


def _clusters(text: str) -> Iterator[tuple[str, int]]:
    """`text`'s grapheme clusters (what a terminal shows as one character: a letter with its marks,
    an emoji with its variation selector or joined to others, a flag) with the columns of each: one
    by one, the characters of `❤️` or `👨‍👩‍👧` count otherwise than together."""
    import wcwidth

    for cluster in wcwidth.iter_graphemes(text):
        yield cluster, display_width(cluster)


def display_width(text: str) -> int:
    """The columns a terminal gives `text` (one line, no control characters: `terminal_safe`'s)."""
    if text.isascii():
        return len(text)
    import wcwidth

    measured = wcwidth.wcswidth(text)  # -1: a character it cannot measure, counted one by one
    return measured if measured >= 0 else sum(_char_width(char) for char in text)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns, the cut marked with an ellipsis."""
    if display_width(text) <= width:
        return text
    if text.isascii():
        return text[: width - 1] + ELLIPSIS if width > 0 else ""
    kept: list[str] = []
    used = 0
    for cluster, columns in _clusters(text):
        used += columns
        if used > width - 1:
            break
        kept.append(cluster)
    return "".join(kept) + ELLIPSIS if width > 0 else ""


def pad(text: str, width: int) -> str:
    """`text` followed by the spaces that make it `width` columns wide."""
    return text + " " * (width - display_width(text))


def _cut_at(word: str, room: int) -> int:
    """How many of `word`'s characters fill `room` columns (at least one cluster, never part of one)."""
    used = count = 0
    for cluster, columns in _clusters(word):
        used += columns
        if used > room:
            return count or len(cluster)
        count += len(cluster)
    return len(word)


def wrap(text: str, width: int, hang: str = "  ") -> list[str]:
    """One line of prose on lines of `width` columns, broken at spaces; the lines after the first keep
    its indent plus `hang`. A sentence loses no character, where a cell is cut: a word longer than a
    line is a line of its own, whole when it is ASCII (a path, a URL, an id: cut in two, it could not
    be copied from the log; the terminal folds it), else broken across lines (CJK text has no
    spaces to break at)."""
    if display_width(text) <= width:
        return [text]
    indent = text[: len(text) - len(text.lstrip(" "))]
    lines: list[str] = []
    line = indent
    for word in text.split():
        fresh = not line.strip()
        joined = line + word if fresh else f"{line} {word}"
        if display_width(joined) <= width:
            line = joined
            continue
        if not fresh:
            lines.append(line)
            line = indent + hang
        while display_width(line + word) > width and not word.isascii():
            cut = _cut_at(word, width - display_width(line))
            lines.append(line + word[:cut])
            line, word = indent + hang, word[cut:]
        line += word
    return [*lines, line]


def _shrink(widths: list[int], minimum: Mapping[int, int], excess: int) -> int:
    """Take up to `excess` columns from the columns of `minimum`, the widest first, none below its
    minimum; the columns still to take."""
    while excess > 0:
        room = [i for i, least in minimum.items() if widths[i] > least]
        if not room:
            break
        widest = max(room, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return excess


def table(
    rows: Sequence[Sequence[str]],
    header: Sequence[str],
    flexible: int,
    width: int,
    give_way: Sequence[Mapping[int, int] | int] = (),
) -> list[str]:
    """Aligned columns within `width`. The `flexible` column gives up what the others need, down to
    its header's width (unless `give_way` leaves it out). While the rows are still too wide, the
    steps of `give_way` are taken in turn: a mapping (column: its least width) makes its columns
    give up more, the widest first, their cells cut with an ellipsis; a column number leaves that
    column out, and the columns before it give up only what is still needed without it. A row
    still too wide (its columns can give no more) is cut at `width`."""
    left_out: set[int] = set()
    while True:
        columns = [i for i in range(len(header)) if i not in left_out]
        widths = [max(display_width(header[i]), *(display_width(r[i]) for r in rows)) for i in columns]
        if flexible in columns:
            flex = columns.index(flexible)
            others = sum(w for i, w in enumerate(widths) if i != flex) + 2 * len(widths)
            widths[flex] = max(min(widths[flex], width - others), display_width(header[flexible]))
        excess = sum(widths) + 2 * len(widths) - width
        for step in give_way:
            if excess <= 0:
                break
            if isinstance(step, int):
                if step not in left_out:
                    left_out.add(step)
                    break
            else:
                least = {columns.index(i): n for i, n in step.items() if i in columns}
                excess = _shrink(widths, least, excess)
        else:
            break
        if excess <= 0:
            break

    def line(cells: Sequence[str]) -> str:
        padded = (pad(fit(cells[i], w), w) for i, w in zip(columns, widths, strict=True))
        return fit("  " + "  ".join(padded).rstrip(), width)

    return [line(header), *(line(r) for r in rows)]
