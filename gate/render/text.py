"""Making untrusted text (package names, titles, paths from an image or a report) safe to show.

Every renderer passes report text through one of these before it reaches a reader: the
terminal must not receive escape sequences, and Markdown must not receive HTML, links,
images, mentions or table breaks that a hostile package name could smuggle in.
"""

from __future__ import annotations

import re
import unicodedata

_ZWSP = "\u200b"

# C0/C1 controls (ESC starts terminal escape sequences), plus the bidirectional overrides
# that can make text read differently from what it is (CVE-2021-42574, "Trojan Source").
_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str | None, limit: int | None = None) -> str:
    """One line of text for a terminal: control characters shown as `\\xNN`, newlines as spaces."""
    if not text:
        return ""
    flat = " ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text
    safe = _UNSAFE_CHARS.sub(_visible, flat)
    return shorten(safe, limit) if limit else safe


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# Every character CommonMark lets a backslash escape; escaping all of them means no
# emphasis, code span, link, image, heading, list or table syntax survives.
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>\"'=:&$%^;,/?])")
# GitHub links `@user` and `@org/team` (mentions notify people) and bare URLs and
# `www.` hosts (the GFM autolink extension). A zero-width space breaks each pattern
# without changing what the reader sees.
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=://)|(?<=www)(?=\\\.)")


def md_escape(text: str | None, limit: int | None = None) -> str:
    """Untrusted text made inert inside Markdown, including inside a table cell.

    The result is a single line: newlines become spaces (a newline would end a table row).
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = " ".join(text.split())
    text = _UNSAFE_CHARS.sub("", text)
    if limit:
        text = shorten(text, limit)
    text = _MD_PUNCT.sub(r"\\\1", text)
    text = _MENTION.sub("@" + _ZWSP, text)
    return _AUTOLINK.sub(_ZWSP, text)


def md_code(text: str | None, limit: int | None = None) -> str:
    r"""Untrusted text shown as inline code, as safely as `md_escape`.

    The fence is longer than any backtick run in the text, so the span cannot be closed
    early; `|` is backslash-escaped because inside a GFM table it would split the row even
    within a code span (the GFM spec's tables section allows `\|` there for this reason).
    """
    if not text:
        return ""
    text = " ".join(text.split())
    text = _UNSAFE_CHARS.sub("", text)
    if limit:
        text = shorten(text, limit)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    text = text.replace("|", "\\|")
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_SAFE_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+\Z")


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) URL that cannot break out of a Markdown link, else None."""
    if not url or not _SAFE_URL.match(url) or "(" in url or ")" in url or "]" in url:
        return None
    return url
