"""Markdown rendered as GitHub renders it, and what the HTML holds: for checks on the HTML, not the text.

GitHub renders comments and job summaries with cmark-gfm and the `table`, `autolink`,
`strikethrough` and `tagfilter` extensions, with raw HTML allowed (then sanitized); the cmarkgfm
package binds the same library. After rendering, GitHub turns `@name` in text nodes into mentions
and `#123` into references, except inside `code`, `pre` and `a`; `InertCheck` looks for those too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm  # type: ignore[import-untyped]  # cmark-gfm bindings ship no type information
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

GFM_EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter"]
"""The extensions GitHub enables for comments."""

ALLOWED_TAGS = frozenset(
    {"p", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "code"}
    | {"a", "strong", "em", "sub", "ul", "li", "blockquote", "br"}
)
"""Every element the renderer itself makes; anything else came from input."""

# What GitHub links after rendering, in text outside code and links.
MENTION = re.compile(r"@[A-Za-z0-9]")
REFERENCE = re.compile(r"(?<![\w/])#\d|\bGH-\d", re.IGNORECASE)
AUTOLINK = re.compile(r"[A-Za-z]://|www\.", re.IGNORECASE)


def to_html(markdown: str) -> str:
    """GitHub-flavoured HTML, raw HTML kept (GitHub keeps it and sanitizes it after)."""
    html: str = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=Options.CMARK_OPT_UNSAFE, extensions=GFM_EXTENSIONS
    )
    return html


@dataclass
class Table:
    """One table: the number of cells in each row, header row first."""

    rows: list[int] = field(default_factory=list)
    """Cells per row."""

    @property
    def body_rows(self) -> int:
        """Rows below the header."""
        return len(self.rows) - 1


class HtmlFacts(HTMLParser):
    """Walks the HTML once and records what the checks need."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.first_node: str | None = None
        self.free_text: list[str] = []
        """Text outside `code` and `a`, where GitHub makes mentions and references."""
        self.tables: list[Table] = []
        self.details_depth = 0
        self.details_balanced = True
        self.open: list[str] = []
        self.feed(html)
        self.close()
        if self.details_depth != 0:
            self.details_balanced = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.first_node = self.first_node or f"<{tag}>"
        self.tags.append((tag, attrs))
        if tag == "details":
            self.details_depth += 1
        if tag == "table":
            self.tables.append(Table())
        if tag == "tr":
            self.tables[-1].rows.append(0)
        if tag in ("td", "th"):
            self.tables[-1].rows[-1] += 1
        if tag not in ("br",):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.details_depth -= 1
            if self.details_depth < 0:
                self.details_balanced = False
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_comment(self, data: str) -> None:
        self.first_node = self.first_node or "<!--"
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.first_node = self.first_node or "text"
        if not {"code", "a", "pre"} & set(self.open):
            self.free_text.append(data)

    @property
    def links(self) -> list[str]:
        """The href of every `a`."""
        return [dict(attrs).get("href") or "" for tag, attrs in self.tags if tag == "a"]


def inert_problems(html: str, *, allowed_links: set[str], marker: str | None = None) -> list[str]:
    """What in `html` did not come from the renderer: foreign elements, attributes, links, comments,
    mentions, references or autolinks in text. Empty when the HTML is clean."""
    facts = HtmlFacts(html)
    problems = []
    for tag, attrs in facts.tags:
        if tag not in ALLOWED_TAGS:
            problems.append(f"element <{tag}> from input")
        for name, value in attrs:
            if not (tag == "a" and name == "href"):
                problems.append(f"attribute {name}={value!r} on <{tag}>")
    for href in facts.links:
        if href not in allowed_links or not href.startswith(("https://", "http://")):
            problems.append(f"link {href!r} not made by the renderer")
    expected_comments = [marker[4:-3]] if marker else []
    if facts.comments != expected_comments:
        problems.append(f"comments {facts.comments!r}, expected {expected_comments!r}")
    if marker and facts.first_node != "<!--":
        problems.append(f"the marker is not first: {facts.first_node}")
    if not facts.details_balanced:
        problems.append("unbalanced <details>")
    text = "\n".join(facts.free_text)
    for name, pattern in (("mention", MENTION), ("reference", REFERENCE), ("autolink", AUTOLINK)):
        found = pattern.search(text)
        if found:
            problems.append(f"{name} in text: {text[max(found.start() - 20, 0) : found.end() + 20]!r}")
    for table in facts.tables:
        if len(set(table.rows)) > 1:
            problems.append(f"table with ragged rows: {table.rows}")
    return problems


def table_cells(html: str) -> list[list[list[str]]]:
    """Every table of the HTML as its body rows, each a list of the cells' inner HTML."""
    tables = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        tables.append([re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows])
    return tables


def constant_columns(html: str) -> list[tuple[int, int]]:
    """(table, column) of every column that holds one value in every row of a table of two rows
    or more: what the summary says once instead."""
    found = []
    for t, rows in enumerate(table_cells(html)):
        if len(rows) < 2:
            continue
        for c in range(len(rows[0])):
            if len({row[c] for row in rows}) == 1:
                found.append((t, c))
    return found
