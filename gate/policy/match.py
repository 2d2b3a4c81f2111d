"""When an allowlist entry matches a finding: only when every field it sets matches.

Globs (`path`, `image`) are translated to regular expressions once per pattern and run by RE2
(google-re2), whose automata match in time linear in the text: the paths and image references
come from reports, and Python's backtracking `re` took 84 s to match `a/**/b/**/c/**/d` against
three 6 KB paths, since each `**` can start at every `/` of the path.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, Literal, Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from gate.enrich.purls import parse_purl, purl_matches
from gate.model import Finding
from gate.policy.model import AllowlistEntry

_OPTIONS = re2.Options()
_OPTIONS.dot_nl = True  # `**` and `*` match a newline too: a path is any text


class Glob(Protocol):
    """A compiled glob (an RE2 regular expression)."""

    def fullmatch(self, text: str) -> object | None:
        """A match object when the whole of `text` matches, else None."""


@functools.lru_cache(maxsize=4096)
def path_glob(pattern: str) -> Glob:
    """A path glob: `**` crosses directories, `*` and `?` stay within one, `[...]` is a class.

    The result's `fullmatch` says whether a whole path matches."""
    glob: Glob = re2.compile(_path_regex(pattern), _OPTIONS)
    return glob


def path_matches(pattern: str, path: str) -> bool:
    """Whether the path glob `pattern` matches the whole of `path` (a leading `/` aside).

    A glob that is a plain path, or a plain directory and `**` (`srv/app/**`, as most allowlist
    entries write them), is compared as text: RE2's Python wrapper costs several microseconds a
    call, more than the match, and most findings of a large report have a path of their own. Only
    ASCII paths are: RE2 reads text as UTF-8, which a path with a lone surrogate is not."""
    plain = _plain_glob(pattern)
    if plain is not None and path.isascii():
        text, below = plain
        return path.lstrip("/").startswith(text) if below else path.lstrip("/") == text
    return _glob_matches(pattern, path)


_GLOB_CHARACTERS = re.compile(r"[*?\[]")


@functools.lru_cache(maxsize=4096)
def _plain_glob(pattern: str) -> tuple[str, bool] | None:
    """(text, False) for an ASCII glob without glob characters, which matches that path only;
    (text, True) for such text followed by `**`, which matches every path that starts with it;
    None for any other glob."""
    pattern = pattern.lstrip("/")
    if not pattern.isascii():
        return None
    text, below = (pattern[:-2], True) if pattern.endswith("**") else (pattern, False)
    return None if _GLOB_CHARACTERS.search(text) else (text, below)


@functools.lru_cache(maxsize=16384)
def _glob_matches(pattern: str, path: str) -> bool:
    # Kept for the pairs seen last: the findings of one path are compared with the same entries
    # again and again, and RE2's Python wrapper costs more than the match (docs/performance.md).
    return path_glob(pattern).fullmatch(path.lstrip("/")) is not None


def _path_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    pattern = pattern.lstrip("/")
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")  # `a/**/b` also matches `a/b`
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := _class_end(pattern, i)) > 0:
            negated = pattern[i + 1] in ("!", "^")
            body = pattern[i + 2 if negated else i + 1 : end]
            out.append("[" + ("^" if negated else "") + _class_members(body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Where the class opened at `start` closes, or -1 when it does not (the `[` is then literal).

    `[!...]` and `[^...]` are negated; as in fnmatch, a `]` right after `[` or `[!` is a member,
    not the end.
    """
    first = start + 2 if pattern[start + 1 : start + 2] in ("!", "^") else start + 1
    return pattern.find("]", first + 1)


def _class_members(body: str) -> str:
    # Each member is escaped, so that `\`, `^`, `[` or `&&` in a glob mean only themselves to `re`;
    # a `-` between two members stays a range.
    last = len(body) - 1
    return "".join(ch if ch == "-" and 0 < k < last else re.escape(ch) for k, ch in enumerate(body))


def path_glob_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used as a path glob (a range written backwards: `[z-a]`), or None."""
    try:
        # Python's `re` reads the same classes and words its errors better ("bad character range").
        re.compile(_path_regex(pattern))
        path_glob(pattern)
    except re.error as err:
        return err.msg
    except re2.error as err:
        return str(
            err.args[0].decode("utf-8", "replace") if err.args and isinstance(err.args[0], bytes) else err
        )
    except UnicodeError:  # RE2 reads UTF-8, and a lone surrogate is not text
        return "it is not text (a lone surrogate)"
    return None


@functools.lru_cache(maxsize=1024)
def image_glob(pattern: str) -> Glob:
    """An image-reference glob: `*` matches any run of characters, `/` and `:` included.

    The result's `fullmatch` says whether a whole reference matches."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    glob: Glob = re2.compile("".join(parts), _OPTIONS)
    return glob


def package_matches(wanted: str, finding: Finding) -> bool:
    """`wanted` is a package name, or a package URL when it starts with `pkg:`.

    A purl without a version matches every version of that package; qualifiers in
    `wanted` must then all be present in the finding's purl. Purls are compared as
    `packageurl-python` parses them, so an npm scope matches however it is written
    (`pkg:npm/@babel/core` and `pkg:npm/%40babel/core`), as VEX products do.
    """
    if not wanted.startswith("pkg:"):
        return wanted == finding.package.name or _names_java_package(wanted, finding.package.purl)
    purl = finding.package.purl
    if purl is None:
        return False
    return wanted == purl or purl_matches(wanted, purl)


def _names_java_package(wanted: str, purl: str | None) -> bool:
    """Whether the name `wanted` names the Java package of the Maven purl `purl` as another scanner
    names it: Trivy names a Java package `groupId:artifactId` (`org.springframework:spring-beans`),
    Grype (Syft) by its artifactId alone (`spring-beans`), and both give the same purl
    (`pkg:maven/org.springframework/spring-beans@5.3.15`). A `group:artifact` name matches the
    purl with that namespace and name, an artifactId one with that name whatever its group, as it
    matches Grype's own name; so an entry written against either report matches the other's."""
    if purl is None or not purl.startswith("pkg:maven/"):
        return False
    parsed = parse_purl(purl)
    if parsed is None:
        return False
    group, colon, artifact = wanted.rpartition(":")
    if not colon:
        return wanted == parsed.name
    return bool(group) and group == parsed.namespace and artifact == parsed.name


class AllowlistIndex:
    """Entries indexed by vulnerability id, so matching 100k findings against hundreds of
    entries costs a dictionary lookup per id instead of a scan of the whole allowlist."""

    def __init__(self, entries: Sequence[AllowlistEntry]) -> None:
        self._by_id: dict[str, list[AllowlistEntry]] = defaultdict(list)
        for entry in entries:
            self._by_id[entry.vulnerability.casefold()].append(entry)
        for bucket in self._by_id.values():
            bucket.sort(key=lambda e: e.index)

    def candidates(self, finding: Finding) -> list[AllowlistEntry]:
        """Entries naming one of the finding's ids, in policy order, each once."""
        if not finding.aliases:
            # One id: its entries are in policy order already.
            return list(self._by_id.get(finding.vulnerability_id.casefold(), ()))
        # Several ids can name one entry twice (an id and its alias); entries are told apart by
        # their position, not by hashing all their fields, which cost more than the matching.
        found = {entry.index: entry for vid in finding.ids for entry in self._by_id.get(vid.casefold(), ())}
        return [found[index] for index in sorted(found)]

    def matching(self, finding: Finding, image: str | None) -> Iterator[AllowlistEntry]:
        """The entries, in policy order, whose every field matches the finding (and the image)."""
        if not finding.aliases and finding.vulnerability_id.casefold() not in self._by_id:
            return
        for entry in self.candidates(finding):
            # Every candidate names one of the finding's ids; only its other fields are left to check.
            if _mismatched_field(entry, finding, image) is None:
                yield entry

    def first_match(self, finding: Finding, image: str | None) -> AllowlistEntry | None:
        """The first entry, in policy order, that matches the finding."""
        if not finding.aliases and finding.vulnerability_id.casefold() not in self._by_id:
            # Most findings of a large report have no entry at all: no list, no generator.
            return None
        for entry in self.candidates(finding):
            if _mismatched_field(entry, finding, image) is None:
                return entry
        return None


def mismatch(entry: AllowlistEntry, finding: Finding, image: str | None) -> str | None:
    """Why the entry does not match the finding, or None if it does: the id when it names none of
    the finding's; else every field that differs, in the order they are compared, joined by `; `.
    One field named at a time, a reader who fixed it ran explain again to learn of the next."""
    wanted = entry.vulnerability.casefold()
    if not any(i.casefold() == wanted for i in finding.ids):
        return f"vulnerability {entry.vulnerability!r} is not one of the finding's ids"
    fields = []
    # Each field found differing is taken off a copy of the entry and the rest asked again: the
    # matching's own comparison, which stops at the first field for the sake of large reports.
    rest = entry
    while (field := _mismatched_field(rest, finding, image)) is not None:
        fields.append(field)
        unset: dict[str, Any] = {field: None}
        rest = replace(rest, **unset)
    return "; ".join(_words(field, entry, finding, image) for field in fields) or None


def _words(field: _Field, entry: AllowlistEntry, finding: Finding, image: str | None) -> str:
    """How the entry's `field` differs from the finding, in the user's words."""
    package, layer = finding.package, finding.layer
    if field == "package":
        assert entry.package is not None  # noqa: S101 - the field that differs is set
        # A name is compared with the finding's name, a package URL with its package URL.
        if not entry.package.startswith("pkg:"):
            return f"package {entry.package!r} differs from {package.name!r}"
        if package.purl is None:
            return f"package {entry.package!r} is a package URL, and the finding ({package.name!r}) has none"
        return f"package {entry.package!r} differs from {package.purl!r}"
    if field == "version":
        return f"version {entry.version!r} differs from the installed {package.version!r}"
    if field == "path":
        return f"path {entry.path!r} does not match {package.path!r}"
    if field == "origin":
        origin = layer.origin if layer is not None else None
        if origin is None:
            return "the finding's origin is unknown (no base image is known)"
        assert entry.origin is not None  # noqa: S101 - the field that differs is set
        return f"origin {entry.origin.value!r} differs from the finding's {origin.value!r}"
    return f"image {entry.image!r} does not match {image!r}" if image else "the image reference is unknown"


_Field = Literal["package", "version", "path", "origin", "image"]


def _mismatched_field(entry: AllowlistEntry, finding: Finding, image: str | None) -> _Field | None:
    """The first field of an entry already known to name one of the finding's ids that does not
    match it (`package`, `version`, `path`, `origin`, `image`), or None when all do.

    Only the field's name: the matching of a large report asks this of every candidate entry, and
    `mismatch` words the difference for the few that are explained."""
    if entry.package is not None and not package_matches(entry.package, finding):
        return "package"
    if entry.version is not None and entry.version != finding.package.version:
        return "version"
    if entry.path is not None and not path_matches(entry.path, finding.package.path):
        return "path"
    if entry.origin is not None:
        layer = finding.layer
        if layer is None or layer.origin is not entry.origin:
            return "origin"
    if entry.image is not None and (image is None or image_glob(entry.image).fullmatch(image) is None):
        return "image"
    return None
