"""Hostile text for the tests of escaping: what a report or a policy may carry into every output."""

from __future__ import annotations

HOSTILE = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](https://evil.example)",
    "![x](https://evil.example/x.png)",
    "@octocat",
    "@org/team",
    "| broken | table |",
    "line one\nline two\n\n# heading\n- item",
    "``` `` ` backticks ````",
    "<!-- --> closing the marker -->",
    "</details></summary></table>",
    "javascript:alert(1)",
    "abc\u202edcba\u2066x\u2069",
    "www.evil.example and https://evil.example/x and mail@evil.example",
    "see #1 and octo-org/app#2 and GH-3",
    "&lt;b&gt; &#60;b&#62; *emph* _emph_ ~~del~~ \\\\ \\",
    "<https://evil.example>",
    "[ref]: https://evil.example",
    "\x1b[31mred\x00",
    "x" * 5000,
)
"""Text an attacker can put into a package name, path, title, version, layer step or policy."""
