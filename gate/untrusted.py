"""Making untrusted text (package names, titles, paths from an image or a report) safe to show.

A rule for every stage that shows text, not a renderer: the renderers, the platforms (log lines,
workflow commands, API error text) and the command line all use it. Report text passes through one
of these before it reaches a reader: the
terminal must not receive escape sequences, and Markdown must not receive HTML, links,
images, mentions or table breaks that a hostile package name could smuggle in.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

_ZWSP = "\u200b"

# C0/C1 controls (ESC starts terminal escape sequences), the bidirectional overrides and
# isolates that can make text read differently from what it is (CVE-2021-42574, "Trojan
# Source"), and the invisible characters: zero-width spaces and joiners, the bidi marks, the word
# joiner and the byte-order mark, and the other default-ignorable format characters (Unicode's
# Default_Ignorable_Code_Point): the soft hyphen, the combining grapheme joiner, the Hangul fillers,
# the Khmer inherent vowels, the Mongolian variation selectors and vowel separator, U+2065-U+206F,
# the variation selectors (U+FE00-U+FE0F, U+E0100-U+E01EF: after a letter they change nothing a
# reader sees; `_visible` keeps the two that choose an emoji's look where they do), U+FFF0-U+FFF8, the interlinear annotation marks, the shorthand and musical format
# controls, and U+E0000-U+E0FFF, whose tag characters spell ASCII no one sees. The line and paragraph separators (U+2028,
# U+2029) too: some log viewers and editors start a new line at them, as at a newline. An invisible character makes two different names look the same
# (`req\u200buests` and `requests`), so it is shown as its code, like a control, not dropped:
# dropped, the two would still read the same. In Markdown it could also hide a break the escaping
# relies on (the zero-width space below); shown as its code it is plain text. A lone surrogate
# is how Python holds a byte of the command line that is not UTF-8 (a name in Latin-1): no
# terminal or file can take it, and the output would fail to be written.
_UNSAFE_CHARS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200f\u2028\u2029\u2060-\u2064\ufeff\ud800-\udfff"
    r"\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u206a-\u206f\u3164\ufe00-\ufe0f\uffa0"
    r"\ufff0-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


# The text and emoji presentation selectors (VS15, VS16) after a character that takes one: `⚠️` is
# the warning sign drawn as an emoji, as a title may start, and reads badly as `⚠\ufe0f`. Such a
# character is a base of Unicode's emoji-variation-sequences.txt, the characters drawn either as
# text or as an emoji, where a selector changes what the reader sees; or a keycap's base (`#`,
# `*`, a digit) with the keycap mark after the selector (`1️⃣`). Only one selector, right after
# its base: at the start, after a letter, an ASCII symbol, another selector, or a symbol or emoji
# with one look only (`→`, `°`, `😀`), it only hides that two texts differ, and a run of selectors
# after an emoji can carry text no one sees, so those stay codes.
_PRESENTATION_SELECTORS = frozenset("\ufe0e\ufe0f")
_KEYCAP_BASES = frozenset("#*0123456789")
_KEYCAP = "\u20e3"


@functools.cache
def _variation_bases() -> frozenset[int]:
    """The bases of emoji-variation-sequences.txt beyond ASCII, from `wcwidth` (already the width
    measure of the terminal summary): its tables of the characters VS16 draws as an emoji
    (text by default) and of those VS15 draws as text (an emoji by default) are the file's bases
    between them."""
    from wcwidth.table_vs15 import VS15_WIDE_TO_NARROW
    from wcwidth.table_vs16 import VS16_NARROW_TO_WIDE

    tables = (*VS16_NARROW_TO_WIDE.values(), *VS15_WIDE_TO_NARROW.values())
    return frozenset(
        code for table in tables for low, high in table for code in range(low, high + 1) if code > 0x7F
    )


def _chooses_presentation(text: str, at: int) -> bool:
    """Whether the character at `at` is a presentation selector right after a character that takes one."""
    if text[at] not in _PRESENTATION_SELECTORS or at == 0:
        return False
    base = text[at - 1]
    if base in _KEYCAP_BASES:
        return text[at + 1 : at + 2] == _KEYCAP
    return not base.isascii() and ord(base) in _variation_bases()


def _visible(match: re.Match[str]) -> str:
    if _chooses_presentation(match.string, match.start()):
        return match.group()
    code = ord(match.group())
    # `\\U` and eight digits beyond the Basic Multilingual Plane, as Python writes them: `\\u` and
    # four would read as another character followed by digits.
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def invisible_shown(text: str) -> str:
    """`text` with its controls, bidi and invisible characters shown as codes, nothing else
    changed: for a renderer that removes what its format cannot carry first (JUnit's XML)."""
    return _UNSAFE_CHARS.sub(_visible, text)


def terminal_safe(text: str | None, limit: int | None = None) -> str:
    """One line of text for a terminal: control characters shown as `\\xNN`, bidi and invisible
    characters as `\\uNNNN`, newlines as spaces."""
    if not text:
        return ""
    flat = " ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text
    # Printable ASCII (most text) has none of the unsafe characters: no regex pass for it.
    safe = flat if flat.isascii() and flat.isprintable() else _UNSAFE_CHARS.sub(_visible, flat)
    return shorten(safe, limit) if limit else safe


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# Every character CommonMark lets a backslash escape; escaping all of them means no
# emphasis, code span, link, image, heading, list, table, HTML or entity syntax survives.
_MD_PUNCT_CHARS = "\\`*_{}[]()#+-.!|~<>\"'=:&$%^;,/?@"
# A backslash goes before each by `str.replace`, one pass per character (the backslash first, as
# the others add backslashes): a regex substitution with a replacement template, or a translate
# table, took several times as long on the descriptions of a large report (docs/performance.md).
# Measured again per text, replace chain / regex template / translate: 26 / 274 / 365 us on
# descriptions of 4,000 characters, 2.9 / 24 / 29 us on the corpus's descriptions (about 360
# characters), so the chain stays for texts of every length.
# What GitHub turns into links after cmark-gfm has parsed the text, so backslashes cannot stop
# it: `@user` and `@org/team` mentions (they notify people), e-mail autolinks (`a@b.c`,
# `mailto:`, `xmpp:`), `#123` / `GH-123` / `owner/repo#123` references (they add a
# cross-reference to another issue), and the GFM autolink extension's `scheme://` and `www.`.
# GitLab, which renders the merge-request note and the container-scanning descriptions, links
# more references the same way, after parsing: `!123` merge requests, `~label`, `%milestone`,
# `$snippet` and `&epic` (gitlab-org/gitlab#16827: a backslash does not stop them either).
# A zero-width space after `@`, `#`, those sigils, the `:` of `://` and `www` breaks every
# pattern without changing what the reader sees. It is inserted before escaping, so no escape
# is split.
# The pattern matches the text before each place (not the empty string at the place, which the
# regex engine would try at every position of the text) and puts the text back. It starts with the
# set of every pattern's first character, so the engine skips to the next of them at C speed; an
# alternation of patterns made it try every alternative at every position, 250 us for a text of
# 4,000 characters instead of 30. `G`, `H` and `W` are the only characters other than `g`, `h` and
# `w` that match them ignoring case, so the ASCII classes match what `(?i:gh-|www)` matched.
_LINKISH = re.compile(
    r"""[@#!~%$&:gGwW]
    (?:(?<=@)
      |(?<=[#!~%$&])(?=[\w"])
      |(?<=[gG])[hH]-(?=\d)
      |(?<=[wW])[wW]{2}(?=\.)
      |(?<=:)(?=//))""",
    re.VERBOSE,
)
_LINK_SIGILS = "@#!~%$&"


def _may_link(text: str) -> bool:
    """False when `_LINKISH` cannot match: most descriptions have none of the characters it needs,
    and looking for each with `in` takes a tenth of the regex's scan. `str.lower` maps no character
    but `G`, `H`, `W` to `g`, `h`, `w`, so a match in the text is a match in its lower case."""
    for sigil in _LINK_SIGILS:
        if sigil in text:
            return True
    if "://" in text:
        return True
    lower = text.lower()
    return "gh-" in lower or "www." in lower


def _break_links(text: str) -> str:
    # A callback, not the template `\g<0>` and a zero-width space: Python 3.11 expands a template
    # in Python for every match, which took twice the callback's time on text full of links.
    return _LINKISH.sub(lambda match: match.group() + _ZWSP, text) if _may_link(text) else text


def _escape_punctuation(text: str) -> str:
    for char in _MD_PUNCT_CHARS:
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


_ASCII_CONTROLS = bytes(range(0x20)) + b"\x7f"
_LONG_TEXT = 128
"""Length from which `_printable_ascii` deletes controls from the bytes instead of asking
`str.isprintable`: the two calls cost more than it on short text."""


def _printable_ascii(text: str) -> bool:
    """`text.isascii() and text.isprintable()`: printable ASCII is ASCII without the C0 controls
    and DEL. Deleting those from the text's bytes takes a third of `isprintable`'s time on a
    description of 4,000 characters (2.5 us against 8.8 us)."""
    if not text.isascii():
        return False
    if len(text) < _LONG_TEXT:
        return text.isprintable()
    return len(text.encode("ascii").translate(None, _ASCII_CONTROLS)) == len(text)


def md_escape(text: str | None, limit: int | None = None) -> str:
    """Untrusted text made inert inside Markdown, including inside a table cell.

    The result is a single line: newlines become spaces (a newline would end a table row).
    """
    if not text:
        return ""
    if _printable_ascii(text):
        # NFC changes no ASCII text, and the space is the only whitespace or control character of
        # printable ASCII: only runs of spaces and spaces at either end need the split and join.
        if "  " in text or text[0] == " " or text[-1] == " ":
            text = " ".join(text.split())
    else:
        text = " ".join(unicodedata.normalize("NFC", text).split())
        if not (text.isascii() and text.isprintable()):
            text = _UNSAFE_CHARS.sub(_visible, text)
    if limit:
        text = shorten(text, limit)
    return _escape_punctuation(_break_links(text))


def md_code(text: str | None, limit: int | None = None, *, in_table: bool = True) -> str:
    r"""Untrusted text shown as inline code, as safely as `md_escape`.

    The fence is longer than any backtick run in the text, so the span cannot be closed
    early. In a table (`in_table`) `|` is backslash-escaped, because a GFM table splits the
    row at it even within a code span (the GFM spec's tables section allows `\|` there for
    this reason); elsewhere the backslash would show, so it is left out. GitHub makes no
    mention, reference or link inside code, so nothing else needs breaking.
    """
    if (
        text
        and text.isascii()
        and text.isprintable()
        and "`" not in text
        and "  " not in text
        and text[0] != " "
        and text[-1] != " "
        and (not limit or len(text) <= limit)
    ):
        # Most names, paths and versions: printable ASCII, nothing to normalize, show or cut, and
        # no backtick, so one backtick either side is the fence.
        return "`" + (text.replace("|", "\\|") if in_table else text) + "`"
    text = _one_line(text, limit)
    if not text:
        return ""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if in_table:
        text = text.replace("|", "\\|")
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html_code(text: str | None, limit: int | None = None) -> str:
    """Untrusted text as `<code>` inside the renderer's own raw HTML (a `<summary>`), where Markdown
    escapes do not apply and a blank line would end the HTML block: one line, controls and
    invisible characters shown as codes, `<`, `>`, `&` and quotes as entities. GitHub and GitLab
    make no mention, reference or link inside `code`, so a name such as `python3.11` stays text."""
    text = _one_line(text, limit)
    if not text:
        return ""
    return f"<code>{html.escape(text, quote=True)}</code>"


def _one_line(text: str | None, limit: int | None) -> str:
    """Untrusted text on one line for a code span: NFC, its runs of white space one space, its
    controls and invisible characters shown as codes, cut to `limit` characters when given."""
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    text = _UNSAFE_CHARS.sub(_visible, text)
    return shorten(text, limit) if limit and text else text


# No brackets or parentheses (they could close the Markdown link, and cmark-gfm would
# percent-encode a `[`, so the link would not be the URL of the report), no spaces, quotes or
# angle brackets. IPv6 literal hosts are the only loss.
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+\Z")


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) URL that cannot break out of a Markdown link, else None."""
    if not url or not _SAFE_URL.match(url):
        return None
    return url


# GitHub adds a cross-reference to an issue, pull request or discussion that a comment links to,
# as it does for `#123` ("Autolinked references and URLs": an issue or pull request URL is a
# reference), and GitLab adds a "mentioned in" note to an issue or merge request linked by URL. A
# report's URL is its own to choose: linked from every pull request's comment, an upstream
# project's issue would collect a reference from each of them.
_REFERENCING_URL = re.compile(
    r"https?://(?:www\.)?github\.com/[^/?#]+/[^/?#]+/(?:issues|pull|discussions)/\d"
    r"|https?://[^/?#]+/(?:[^?#]*/)?-/(?:issues|merge_requests|epics|work_items)/\d",
    re.IGNORECASE,
)


# On the run's own server (GitHub Enterprise Server, a self-managed GitLab), the same pages under
# that server's address: `owner/name/issues/1`, `group/sub/project/-/merge_requests/1`, and
# GitLab's older `group/project/issues/1`.
_OWN_SERVER_REFERENCE = re.compile(
    r"/[^?#]+/(?:-/)?(?:issues|pull|discussions|merge_requests|epics|work_items)/\d", re.IGNORECASE
)


def comment_link_url(url: str | None, own_server: str | None = None) -> str | None:
    """`safe_url` for a link in a pull-request comment or merge-request note: None as well for a
    URL of an issue, pull request, merge request or discussion, which linking would reference.

    `own_server` is the address of the server the run belongs to (`GITHUB_SERVER_URL`,
    `CI_SERVER_URL`): its issue and pull-request pages are references too."""
    safe = safe_url(url)
    if safe is None or _REFERENCING_URL.match(safe):
        return None
    server = (own_server or "").rstrip("/")
    on_server = bool(server) and safe.lower().startswith(server.lower() + "/")
    return None if on_server and _OWN_SERVER_REFERENCE.match(safe[len(server) :]) else safe


def link_target(url: str) -> str:
    """A `safe_url` URL as the destination of a Markdown link: every `&` written `&amp;`, as a
    link's destination reads entity references (CommonMark, "Links"): a URL holding `&amp;` would
    otherwise link to `&`, another address than the report's."""
    return url.replace("&", "&amp;")


# Ids whose advisory page can be linked from the id alone (the id is checked before it is used).
_ADVISORY_PAGES = (
    (re.compile(r"CVE-\d{4}-\d{4,}\Z"), "https://nvd.nist.gov/vuln/detail/{}"),
    (re.compile(r"GHSA(?:-[0-9a-z]{4}){3}\Z"), "https://github.com/advisories/{}"),
)


def advisory_url(vuln_id: str) -> str | None:
    """The public advisory page of a CVE or GHSA id, built from the id alone; else None."""
    for pattern, page in _ADVISORY_PAGES:
        if pattern.match(vuln_id):
            return page.format(vuln_id)
    return None
