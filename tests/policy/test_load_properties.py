"""Properties of policy loading, over generated documents and text."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.model import Severity, VendorStatus
from gate.policy.load import load_policy_text, schema
from gate.policy.model import Mode
from tests.support.policy_texts import validate_text

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-2, 12)
    | st.floats(-1, 11, allow_nan=False)
    | st.sampled_from(
        ["HIGH", "high", "fixed", "advisory", "CVE-2024-1", "pkg:deb/debian/zlib1g", "/usr", "usr/**"]
    )
    | st.sampled_from(["2027-01-31", "2027-13-01", "", " ", "<<", "yes", "1.10"])
    | st.text(max_size=4)
)
_KEYS = st.sampled_from(
    [
        "severity",
        "fixable_only",
        "cvss_score",
        "budgets",
        "HIGH",
        "LOW",
        "vulnerability",
        "reason",
        "package",
        "version",
        "path",
        "image",
        "expires",
        "mode",
        "allowlist",
        "severty",
        "x",
    ]
)
_ANY = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=8,
)
# Each field is usually well-formed and sometimes anything at all, so that generated policies
# are valid often enough for the mapping to typed values to be checked too.
_SEVERITY = st.sampled_from(["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"])
_STATUS = st.sampled_from(["fixed", "affected", "will_not_fix", "end_of_life", "not_affected", "unknown"])
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
_DATE = st.dates().map(lambda d: d.isoformat()) | st.dates()


def _usually(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` nine times in ten, any scalar otherwise."""
    return st.sampled_from(range(10)).flatmap(lambda n: valid if n else _SCALARS)


_ENTRY = _usually(
    st.fixed_dictionaries(
        {
            "vulnerability": _usually(st.from_regex(r"[A-Z]{3,4}-[0-9a-z-]{1,9}", fullmatch=True)),
            "reason": _usually(_TEXT),
        },
        optional={
            "package": _usually(
                st.sampled_from(["zlib1g", "pkg:deb/debian/zlib1g", "pkg:pypi/requests@2.31.0"])
            ),
            "version": _usually(_TEXT),
            "path": _usually(st.sampled_from(["usr/lib/**", "app/*.jar", "**"])),
            "image": _usually(_TEXT),
            "expires": _usually(_DATE),
        },
    )
    | st.dictionaries(_KEYS, _SCALARS, max_size=4)
)
_POLICIES = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 1, 2, "1"])},
    optional={
        "mode": _usually(st.sampled_from(["enforce", "advisory"])),
        "fail_on": _usually(
            st.fixed_dictionaries(
                {},
                optional={
                    "severity": _usually(_SEVERITY),
                    "fixable_only": _usually(st.booleans()),
                    "cvss_score": _usually(st.floats(0, 10) | st.integers(0, 10)),
                    "budgets": _usually(st.dictionaries(_SEVERITY, st.integers(0, 5), max_size=3)),
                },
            )
        )
        | st.dictionaries(_KEYS, _ANY, max_size=3),
        "ignore_statuses": _usually(st.lists(_usually(_STATUS), max_size=3)),
        "allowlist": _usually(st.lists(_ENTRY, max_size=3)),
        "fail_on_expired": _usually(st.booleans()),
    },
)


@settings(deadline=None)
@given(_POLICIES)
def test_loader_accepts_exactly_what_the_schema_accepts(instance: dict[str, Any]) -> None:
    text = yaml.safe_dump(instance)
    # The schema sees what an editor sees: JSON, where a YAML date is its ISO text.
    as_json = json.loads(json.dumps(instance, default=dt.date.isoformat))
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    problems = validate_text(text)
    assert (problems == []) is validator.is_valid(as_json), problems
    if problems:
        return
    policy = load_policy_text(text, "policy.yaml")
    fail_on = as_json.get("fail_on", {})
    assert policy.fail_on.severity is Severity[fail_on.get("severity", "HIGH")]
    assert policy.fail_on.fixable_only is fail_on.get("fixable_only", False)
    assert policy.fail_on.cvss_score == fail_on.get("cvss_score")
    assert dict(policy.fail_on.budgets) == {Severity[k]: v for k, v in fail_on.get("budgets", {}).items()}
    assert policy.ignore_statuses == {VendorStatus(s) for s in as_json.get("ignore_statuses", [])}
    assert policy.mode is Mode(as_json.get("mode", "enforce"))
    assert policy.fail_on_expired is as_json.get("fail_on_expired", False)
    fields = ("vulnerability", "reason", "package", "version", "path", "image")
    assert [tuple(getattr(e, f) for f in fields) for e in policy.allowlist] == [
        tuple(raw.get(f) for f in fields) for raw in as_json.get("allowlist", [])
    ]
    assert [e.expires for e in policy.allowlist] == [
        dt.date.fromisoformat(raw["expires"]) if "expires" in raw else None
        for raw in as_json.get("allowlist", [])
    ]


@settings(deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_raises_policy_error(text: str) -> None:
    for problem in validate_text(text):
        assert problem.startswith("policy.yaml:")
