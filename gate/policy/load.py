"""Loading a policy file: YAML (safely), checked against `policies/schema.json`, into `Policy`.

Every problem in the file is collected, located and reported at once, sorted by line, as
`FILE:LINE: key.path: what is wrong (expected X, got Y)`. A policy that has any problem is
refused as a whole: the gate fails closed rather than guess what a broken policy meant.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate._input_file import STANDARD_INPUT_ONLY_FOR_REPORTS, shown_name
from gate.errors import PolicyError
from gate.model import LayerOrigin, Severity, VendorStatus
from gate.policy.advice import policy_warnings, repeated_entries, unmatchable_entries
from gate.policy.match import path_glob_problem
from gate.policy.model import (
    AllowlistEntry,
    BaseImagePolicy,
    BaselinePolicy,
    ExploitDataPolicy,
    FailOn,
    Mode,
    OnStale,
    Policy,
    SuspectKind,
)
from gate.policy.source import (
    MAX_BYTES,
    Document,
    JSONValue,
    KeyPath,
    Problem,
    decode,
    describe,
    parse,
    space_after_key,
)

if TYPE_CHECKING:
    import jsonschema

DEFAULT_SOURCE = "policies/default.yaml (shipped default)"
"""How a policy loaded without `--policy` names itself in messages and reports."""


def default_policy_path() -> Path:
    """The shipped `policies/default.yaml` (installed as the package `gate.policies`)."""
    return Path(str(resources.files("gate.policies").joinpath("default.yaml")))


def load_default_policy() -> Policy:
    """The shipped default policy, named as such in every output.

    It is not checked against the schema: it ships with the package, and a test checks it there
    (tests/policy/test_load.py), so the schema's validator is not imported for a run without
    `--policy`. Everything else a policy goes through (its YAML, its globs and paths) applies.
    """
    policy, problems = _check(
        default_policy_path().read_text(encoding="utf-8"), DEFAULT_SOURCE, against_schema=False
    )
    if policy is None:
        raise PolicyError(DEFAULT_SOURCE, [said for _line, said in problems])
    return policy


def load_policy(path: Path) -> Policy:
    """Reads and checks a policy file; raises `PolicyError` carrying every problem."""
    policy, problems = _check_file(path)
    if policy is None:
        raise PolicyError(shown_name(path), [said for _line, said in problems], line=problems[0][0])
    if policy.vex:
        # Like every path in a policy, a VEX file is found beside the policy, wherever the run is.
        policy = replace(policy, vex=tuple(path.parent / vex for vex in policy.vex))
    return policy


def load_policy_text(text: str, source: str) -> Policy:
    """Checks policy text read elsewhere; `source` names it in messages."""
    policy, problems = _check(text, source)
    if policy is None:
        raise PolicyError(source, [said for _line, said in problems])
    return policy


def validate_policy_file(path: Path) -> list[str]:
    """Every problem in a policy file, sorted by line; empty when it is valid."""
    return [said for _line, said in _check_file(path)[1]]


def _check_file(path: Path) -> tuple[Policy | None, list[tuple[int | None, str]]]:
    """The policy, or its problems (each with its line, when it has one) sorted by line."""
    try:
        with path.open("rb") as handle:
            # One byte over the limit is enough to know the file is too large, whatever
            # its size (a pipe or a device has none).
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        return None, [(None, f"{shown_name(path)}: cannot read the policy file ({err.strerror or err})")]
    return _check(decode(data), shown_name(path))


def _check(
    text: str | Problem, source: str, *, against_schema: bool = True
) -> tuple[Policy | None, list[tuple[int | None, str]]]:
    """The policy, or its problems; `against_schema=False` leaves out the check against the schema (for the
    shipped default, checked by the tests)."""
    document = parse(text) if isinstance(text, str) else text
    if (
        isinstance(text, str)
        and (isinstance(document, Problem) or not isinstance(document.value, dict))
        and _is_trivyignore(text)
    ):
        # No YAML mapping: read as YAML, it was "invalid YAML" or "expected a mapping".
        return None, [(1, f"{source}:1: {_IGNORE_FILE.format(what='a Trivy ignore file (.trivyignore)')}")]
    if isinstance(document, Problem):
        return None, [(document.line, document.render(source))]
    if not isinstance(document.value, dict):
        found = Problem(
            document.value_lines[()],
            (),
            space_after_key(document.value)
            or f"expected a mapping of policy keys, got {describe(document.value)}",
        )
        return None, [(found.line, found.render(source))]
    # Only a JSON text is another tool's document: a YAML policy with a key one of them has
    # (`version: 1` and `vulnerabilities:`, written for `allowlist:`) is a policy with an unknown key.
    other = _other_document(document.value) if isinstance(text, str) and _JSON_OBJECT.match(text) else None
    if other is None and "version" not in document.value:
        other = _ignore_file(document.value)
    if other is not None:
        found = Problem(document.value_lines[()], (), other)
        return None, [(found.line, found.render(source))]
    # A value the reader already refused (a YAML tag, a duplicate key) is not judged again by
    # the schema: one problem per value, the one that says what to change.
    refused = {problem.path for problem in document.problems}
    judged = (
        [problem for problem in _schema_problems(document) if problem.path not in refused]
        if against_schema
        else []
    )
    problems = [*document.problems, *judged, *_glob_problems(document), *_file_path_problems(document)]
    if problems:
        # An alias repeats the problems of what it refers to; each is said once.
        unique = {(problem.line, problem.render(source)) for problem in problems}
        return None, [(line, rendered) for line, rendered in sorted(unique)]
    policy = _to_policy(document.value, source, document.value_lines)
    return replace(
        policy, warnings=policy_warnings(policy) + repeated_entries(policy) + unmatchable_entries(policy)
    ), []


_TRIVY_IGNORE_KEYS = frozenset({"vulnerabilities", "misconfigurations", "secrets", "licenses"})
"""The top-level keys of Trivy's `.trivyignore.yaml`."""
_IGNORE_FILE = (
    "this is {what}, not a policy, which starts with 'version: 1' (the gate reads no scanner's"
    " ignore rules: write each as an allowlist entry, with a reason and an expiry date)"
)


def _is_trivyignore(text: str) -> bool:
    # Imported here, as the table of other documents: only a policy that is no mapping needs it.
    from gate._other_documents import is_trivyignore

    return is_trivyignore(text)


_SCANNER_CONFIG = (
    "this is {what}, not a policy, which starts with 'version: 1' (it says how {scanner} scans: give"
    " it to {command}; what blocks the gate is the policy's fail_on, docs/policy.md)"
)


@functools.cache
def _policy_words() -> frozenset[str]:
    """Every key the policy format has, at any depth (`severity` of fail_on, `vulnerability` of an
    allowlist entry): a mapping of those alone is a policy that lost its `version`, not a scanner's."""
    words: set[str] = set()
    pending: list[Any] = [schema()]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                words.update(node["properties"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return frozenset(words)


def _scanner_config(value: dict[str, JSONValue]) -> str | None:
    """What a mapping is when it is Trivy's or Grype's configuration file: all its keys are the
    scanner's, and one at least is no policy word or holds one of Trivy's sections (a real
    trivy.yaml has only `severity:` and `vulnerability: {type: os}`)."""
    # Imported here, as the table of other documents: only a policy without `version` needs it.
    from gate._other_documents import TRIVY_SECTIONS, scanner_configuration

    keys = value.keys()
    own = keys - _policy_words() or {k for k in keys & TRIVY_SECTIONS if isinstance(value[k], dict)}
    found = scanner_configuration(keys) if keys and own else None
    if found is None:
        return None
    what, scanner, command = found
    return _SCANNER_CONFIG.format(what=what, scanner=scanner, command=command)


def _ignore_file(value: dict[str, JSONValue]) -> str | None:
    """What a mapping without `version` is when it is another tool's ignore file or configuration,
    given as the policy by someone moving exceptions or settings to the gate: each of its keys
    would be an unknown key."""
    if any(key in value for key in schema()["properties"]):
        return None
    if value and value.keys() <= _TRIVY_IGNORE_KEYS:
        return _IGNORE_FILE.format(what="a Trivy ignore file (.trivyignore.yaml)")
    if isinstance(value.get("ignore"), list):
        return _IGNORE_FILE.format(what="a Grype configuration (.grype.yaml)")
    return _scanner_config(value)


_JSON_OBJECT = re.compile(r"\A\ufeff?\s*\{")
"""The start of a JSON object, as every report, VEX document and SARIF log is written."""

# Documents given as the policy by mistake (`check policy.yaml --policy report.json`), told apart
# by a member their format requires; JSON is YAML, so they parse, and each of their keys would be
# an unknown key of its own. The reports the gate reads are named here; the other documents, by
# the table the report and VEX readers share (`gate._other_documents`), with what to do instead.
_AS_REPORT = "check takes it as REPORT, and the policy with --policy"
_AS_VEX = "give it with --vex, or list it under the policy's vex:"
_AS_SBOM = (
    "the gate reads no SBOM: scan it with a scanner, such as trivy sbom, and give its JSON report as REPORT"
)
_REPORTS = (
    ("SchemaVersion", "a Trivy report", _AS_REPORT),
    ("matches", "a Grype report", _AS_REPORT),
    ("catalogVersion", "CISA's KEV catalog", "give it with --kev, or as the policy's exploit_data.kev"),
)
_INSTEAD = {
    "runs": "the gate writes it with --sarif; it reads scanners' JSON reports",
    "bomFormat": _AS_VEX,
    "spdxVersion": _AS_SBOM,
    "artifactRelationships": _AS_SBOM,
    "statements": _AS_VEX,
    "scan": "the gate writes it with --gitlab; it reads scanners' reports",
    "document": _AS_VEX,
}
"""What to do with each document of the shared table instead."""
# Last: GitLab's reports, CycloneDX, CSAF and KEV documents have `vulnerabilities` too.
_ANY_REPORT = ("vulnerabilities", "a vulnerability report", _AS_REPORT)


@functools.cache
def _other_documents() -> tuple[tuple[str, str, str], ...]:
    """(member, what the document is, what to do instead), in the order they are told apart."""
    # Imported here: only a policy written as a JSON object needs the table.
    from gate._other_documents import OTHER_DOCUMENTS

    named = tuple((member, what, _INSTEAD[member]) for member, what in OTHER_DOCUMENTS)
    return (*_REPORTS, *named, _ANY_REPORT)


def _other_document(value: dict[str, JSONValue]) -> str | None:
    """What a document with no policy key but `version` (which SARIF, OpenVEX and GitLab's reports
    have too) is, when it is a report or another file the gate knows."""
    if str(value.get("schema", "")).startswith("container-gate/decision/"):
        # Its `policy` and `exploit_data` members are policy keys: the schema tells it apart.
        what, hint = "a container-gate decision report", "give it as REPORT, or with --baseline"
        return f"this is {what}, not a policy, which starts with 'version: 1' ({hint})"
    if any(key in value for key in schema()["properties"] if key != "version"):
        return None
    version = value.get("version")
    starts_as_a_policy = version == 1 and not isinstance(version, bool)
    for key, what, hint in _other_documents():
        if key in value:
            if starts_as_a_policy and value.keys().isdisjoint(_ALSO_VERSION_1.get(key, ())):
                # `version: 1` and a stray key (`ignore:`, `matches:`): a policy, whose error
                # about that key says what to change.
                return None
            if key == "bomFormat" and "vulnerabilities" not in value:
                # A CycloneDX document is VEX by its vulnerabilities; without them, an SBOM.
                what, hint = "a CycloneDX SBOM", _AS_SBOM
            return f"this is {what}, not a policy, which starts with 'version: 1' ({hint})"
    return None


_ALSO_VERSION_1 = {"statements": ("@context",), "bomFormat": ("specVersion",)}
"""The documents that have `version: 1` of their own (an OpenVEX document, a CycloneDX BOM), with
another member their format requires, which tells them from a policy; no other has `version: 1`."""


@functools.cache
def schema() -> dict[str, Any]:
    """The policy JSON Schema shipped as `policies/schema.json`."""
    text = resources.files("gate.policies").joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    # Imported when a policy is checked, not with this module: jsonschema (with referencing and
    # its format checkers) took about a tenth of a second to import, which every run paid, the
    # ones that read no policy too (`--help`, `explain`, `completion`).
    import jsonschema

    return jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# Keywords that judge a value itself; when several fail on one value (a number where a
# non-empty string is due fails `type`, an empty string fails `minLength` and `pattern`),
# one message, built from the whole property schema, says what was expected.
_VALUE_KEYWORDS = frozenset({"type", "const", "enum", "format", "pattern", "minLength", "minimum", "maximum"})


def _schema_problems(document: Document) -> list[Problem]:
    problems: list[Problem] = []
    seen_values: set[KeyPath] = set()
    for error in _validator().iter_errors(document.value):
        path: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in known:
                    line = document.key_lines.get((*path, key), document.value_lines[path])
                    problems.append(Problem(line, (*path, key), _unknown_key(key, known, path)))
        elif error.validator == "required":
            line = document.value_lines[path]
            for key in error.validator_value:
                if key not in error.instance:
                    hint = (
                        " (only version 1 is supported: write 'version: 1')"
                        if key == "version" and not path
                        else ""
                    )
                    problems.append(Problem(line, path, f"missing required key {key!r}{hint}"))
        elif error.validator in _VALUE_KEYWORDS:
            if path not in seen_values:
                seen_values.add(path)
                joined = space_after_key(error.instance)
                if joined is not None:  # the key and value YAML read as one text: the YAML to fix
                    problems.append(Problem(document.value_lines[path], (), joined))
                    continue
                problems.append(
                    Problem(document.value_lines[path], path, _bad_value(error.schema, error.instance, path))
                )
        else:  # pragma: no cover - a keyword added to the schema without a message here
            problems.append(Problem(document.value_lines[path], path, error.message))
    return problems


def _glob_problems(document: Document) -> list[Problem]:
    """What the schema cannot see in a path glob: a character range written backwards (`[z-a]`)."""
    problems: list[Problem] = []
    for index, raw in enumerate(_array(_object(document.value).get("allowlist"))):
        glob = _object(raw).get("path")
        why = path_glob_problem(glob) if isinstance(glob, str) else None
        if why is not None:
            path: KeyPath = ("allowlist", index, "path")
            found = f"expected a glob on the package path (usr/lib/**), got {describe(glob)} ({why})"
            problems.append(Problem(document.value_lines[path], path, found))
    return problems


def _file_path_problems(document: Document) -> list[Problem]:
    """What the schema does not say of the files a policy names (`vex:`, `exploit_data:`): a path
    holding a NUL character, which no system can open, and `-`, which people write for standard
    input (as on the command line, where it is refused too) and was read as a missing file `-`
    beside the policy."""
    root = _object(document.value)
    named: list[tuple[KeyPath, JSONValue]] = [
        (("vex", index), value) for index, value in enumerate(_array(root.get("vex")))
    ]
    exploit_data = _object(root.get("exploit_data"))
    named += [(("exploit_data", key), exploit_data[key]) for key in ("kev", "epss") if key in exploit_data]
    problems = []
    for path, value in named:
        if not isinstance(value, str):
            continue
        if "\0" in value:
            found = f"expected a file path without a NUL character, got {describe(value)}"
        elif value == "-":
            found = f"expected a file path, got {describe(value)}: {STANDARD_INPUT_ONLY_FOR_REPORTS}"
        else:
            continue
        problems.append(Problem(document.value_lines[path], path, found))
    return problems


def _bad_value(prop: Mapping[str, Any], value: JSONValue, path: KeyPath) -> str:
    got = describe(value)
    if path == ("version",):
        if isinstance(value, str) and _reads_as_one(value):
            # Quoted, `"1"` is text: "expected 1, got '1'" read as if the gate refused its own version.
            return f"only version 1 is supported (expected the number 1, got the text {got}: write version: 1 without quotes)"
        return f"only version 1 is supported (expected 1, got {got})"
    if "enum" in prop:
        choices = [str(choice) for choice in prop["enum"]]
        hint = _status_hint(value) if path[:1] == ("ignore_statuses",) else None
        return f"expected one of {', '.join(choices)}, got {got}{hint or _did_you_mean(value, choices)}"
    expected = _expected(prop)
    if prop.get("type") == "string" and "format" not in prop and isinstance(value, int | float):
        # YAML reads unquoted 1.10 as the number 1.1 and 2023 as an integer.
        got += " (put it in quotes to make it text)"
    return f"expected {expected}, got {got}"


def _reads_as_one(text: str) -> bool:
    """Whether `text` is the number 1 written as text (`"1"`, `"1.0"`), which the policy's
    `version: 1` is, unquoted."""
    try:
        return float(text) == 1
    except ValueError:
        return False


def _expected(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if prop.get("format") == "date":
        return "a date (YYYY-MM-DD)"
    if "patternErrorMessage" in prop:
        return str(prop["patternErrorMessage"])
    if kind == "string":
        return "a non-empty string" if prop.get("minLength") else "a string"
    if kind == "integer":
        return "a non-negative integer" if prop.get("minimum") == 0 else "an integer"
    if kind == "number":
        return f"a number from {float(prop['minimum']):.1f} to {float(prop['maximum']):.1f}"
    return {"boolean": "true or false", "array": "a list", "object": "a mapping"}.get(str(kind), str(kind))


_ANCHOR_HOLDER_HINT = (
    " (a policy has no key for anchors alone, like GitLab CI's hidden '.' keys or Compose's 'x-' keys:"
    " put the anchor on the first value that uses it, such as the first allowlist entry)"
)


def _unknown_key(key: str, known: list[str], path: KeyPath) -> str:
    what = "unknown severity" if path[-1:] == ("budgets",) else "unknown key"
    if not path and key.startswith((".", "x-", "X-")):
        # Where people keep the values their anchors share in GitLab CI and Compose files.
        return f"{what}{_ANCHOR_HOLDER_HINT}"
    homes = _key_homes().get(key, [])
    # Of the places a key lives (`severity`: `fail_on` and `base_image.fail_on`), the one inside
    # the mapping it was written in is meant, if there is one.
    home = next((h for h in homes if h[: len(path)] == path), homes[0] if homes else None)
    if home is not None and _home_of(home) != _home_of(path):
        if len(home) == 1 and path[-1:] == home:
            # `budgets` under `base_image.fail_on`: the mapping has the right name, not the place.
            return f"{what} (it belongs under the top-level {home[0]!r})"
        return f"{what} (it belongs {_home_of(home)})"
    suggestion = _did_you_mean(key, known)
    if suggestion:
        return f"{what}{suggestion}"
    return f"{what} (expected one of {', '.join(known)})"


_NO_FIX_HINT = "to keep findings without a fixed version from blocking, set fail_on.fixable_only: true"
_STATUS_HINTS = {
    "notfixed": f" (Grype's word for 'affected'; {_NO_FIX_HINT})",
    "unfixed": f" ({_NO_FIX_HINT}; 'fixed' would ignore the findings that have one)",
    "nofix": f" ({_NO_FIX_HINT}; 'fixed' would ignore the findings that have one)",
}
"""Words for "no fix" (Grype's `fix.state` `not-fixed`, Trivy's `--ignore-unfixed`) that spelling
alone would take for `fixed`, the opposite of what they mean."""


def _status_hint(value: JSONValue) -> str | None:
    if not isinstance(value, str):
        return None
    return _STATUS_HINTS.get("".join(ch for ch in value.casefold() if ch.isalnum()))


def _did_you_mean(value: JSONValue, choices: Iterable[str]) -> str:
    if not isinstance(value, str):
        return ""
    by_folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[close[0]]!r}?)" if close else ""


def _home_of(path: KeyPath) -> str:
    if not path:
        return "at the top level"
    if path[0] == "allowlist":
        return "in an allowlist entry"
    return f"under {'.'.join(str(part) for part in path)!r}"


@functools.cache
def _key_homes() -> dict[str, list[KeyPath]]:
    """The mappings each key of the schema lives in, in the schema's order, to point a misplaced
    key to its place."""
    homes: dict[str, list[KeyPath]] = {}
    for key, home in _homes_under(schema(), ()):
        homes.setdefault(key, []).append(home)
    return homes


def _homes_under(node: Mapping[str, Any], path: KeyPath) -> list[tuple[str, KeyPath]]:
    homes: list[tuple[str, KeyPath]] = []
    for key, prop in node.get("properties", {}).items():
        if key in {"version"} or key.isupper():
            continue  # `version` exists at two levels; severities only under budgets
        homes.append((key, path))
        if "properties" in prop:
            homes += _homes_under(prop, (*path, key))
        if "properties" in prop.get("items", {}):
            homes += _homes_under(prop["items"], (*path, key, 0))
    return homes


def _to_policy(doc: dict[str, JSONValue], source: str, lines: Mapping[KeyPath, int]) -> Policy:
    """Builds typed values from a document the schema accepted; absent keys keep the model's defaults."""
    default = Policy(source=source)
    mode, fail_on_expired, lenient = doc.get("mode"), doc.get("fail_on_expired"), doc.get("lenient_severity")
    return Policy(
        source=source,
        fail_on=_fail_on(_object(doc.get("fail_on", {}))),
        ignore_statuses=frozenset(VendorStatus(str(s)) for s in _array(doc.get("ignore_statuses", []))),
        allowlist=tuple(
            _entry(index, _object(raw), lines.get(("allowlist", index)))
            for index, raw in enumerate(_array(doc.get("allowlist", [])))
        ),
        fail_on_expired=fail_on_expired if isinstance(fail_on_expired, bool) else default.fail_on_expired,
        mode=Mode(mode) if isinstance(mode, str) else default.mode,
        lenient_severity=lenient if isinstance(lenient, bool) else default.lenient_severity,
        base_image=_base_image(_object(doc.get("base_image", {}))),
        baseline=_baseline(_object(doc.get("baseline", {}))),
        vex=tuple(Path(str(p)) for p in _array(doc.get("vex", []))),
        exploit_data=_exploit_data(_object(doc.get("exploit_data", {})), source),
        ignore_suspects=frozenset(SuspectKind(str(s)) for s in _array(doc.get("ignore_suspects", []))),
    )


def _whole(value: JSONValue, default: int) -> int:
    """An integer key's value. JSON Schema counts 30.0 as the integer 30 (YAML reads it as a
    float), so the schema accepts it and it must be read as written, not as the default."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return default


def _baseline(raw: dict[str, JSONValue]) -> BaselinePolicy:
    """The `baseline` mapping."""
    fail_on, max_age = raw.get("fail_on"), raw.get("max_age_days")
    default = BaselinePolicy()
    return BaselinePolicy(
        fail_on=frozenset(str(s) for s in fail_on) if isinstance(fail_on, list) else default.fail_on,
        max_age_days=_whole(max_age, default.max_age_days),
    )


def _fail_on(raw: dict[str, JSONValue]) -> FailOn:
    """A `fail_on` mapping (the top-level one, or the base image's, which has no budgets)."""
    default = FailOn()
    severity, fixable_only, cvss = raw.get("severity"), raw.get("fixable_only"), raw.get("cvss_score")
    return FailOn(
        severity=Severity[severity] if isinstance(severity, str) else default.severity,
        fixable_only=fixable_only if isinstance(fixable_only, bool) else default.fixable_only,
        cvss_score=float(cvss) if isinstance(cvss, int | float) else default.cvss_score,
        budgets=tuple(
            sorted(
                (Severity[name], int(count))
                for name, count in _object(raw.get("budgets", {})).items()
                if isinstance(count, int | float)
            )
        ),
        known_exploited=raw.get("known_exploited") is True,
        epss=float(epss) if isinstance(epss := raw.get("epss"), int | float) else default.epss,
    )


def _base_image(raw: dict[str, JSONValue]) -> BaseImagePolicy:
    """The `base_image` mapping: one line per key it holds."""
    fail_on, max_age, on_stale = raw.get("fail_on"), raw.get("max_age_days"), raw.get("on_stale")
    default = BaseImagePolicy()
    return BaseImagePolicy(
        fail_on=_fail_on(_object(fail_on)) if fail_on is not None else None,
        max_age_days=_whole(max_age, default.max_age_days),
        on_stale=OnStale(on_stale) if isinstance(on_stale, str) else default.on_stale,
    )


def _exploit_data(raw: dict[str, JSONValue], source: str) -> ExploitDataPolicy:
    """The `exploit_data` mapping; its paths are relative to the policy file (to the working
    directory for policy text that is no file)."""
    default = ExploitDataPolicy()
    base = Path(source).parent if source != DEFAULT_SOURCE and not source.startswith("<") else Path()
    kev, epss = raw.get("kev"), raw.get("epss")
    max_age, on_stale = raw.get("max_age_days"), raw.get("on_stale")
    return ExploitDataPolicy(
        kev=base / kev if isinstance(kev, str) else None,
        epss=base / epss if isinstance(epss, str) else None,
        max_age_days=_whole(max_age, default.max_age_days),
        on_stale=OnStale(on_stale) if isinstance(on_stale, str) else default.on_stale,
    )


def _entry(index: int, raw: dict[str, JSONValue], line: int | None) -> AllowlistEntry:
    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) else None

    expires, origin = text("expires"), text("origin")
    return AllowlistEntry(
        index=index,
        vulnerability=str(raw["vulnerability"]),
        reason=str(raw["reason"]),
        package=text("package"),
        version=text("version"),
        path=text("path"),
        image=text("image"),
        expires=dt.date.fromisoformat(expires) if expires is not None else None,
        origin=LayerOrigin(origin) if origin is not None else None,
        line=line,
        justification=text("justification"),
    )


# These only narrow the static types: a value of another shape is a schema problem of its own.
def _object(value: JSONValue) -> dict[str, JSONValue]:
    return value if isinstance(value, dict) else {}


def _array(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []
