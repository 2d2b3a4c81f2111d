"""The sarif-om serializer: the schema's property names only, defaults left out unless they carry meaning."""

from __future__ import annotations

import enum
import inspect
import json
from pathlib import Path
from typing import Any

import attr
import pytest

from gate.policy.evaluation import Disposition
from gate.render import _sarif_results as build
from gate.render import _sarif_text as words
from gate.render._exploit import sarif_properties
from gate.render._sarif_om import Suppression, om, to_json
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.sarif_tools import SARIF_SCHEMA


def schema_properties() -> dict[str, set[str]]:
    """For each sarif-om class name, the property names of its definition in the OASIS schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    out = {"SarifLog": set(schema["properties"])}
    for name, definition in schema["definitions"].items():
        out[name[0].upper() + name[1:]] = set(definition.get("properties", {}))
    return out


def test_every_sarif_om_name_is_a_schema_property_except_the_known_rtm4_one() -> None:
    schema = schema_properties()
    mismatches = {}
    for name, cls in inspect.getmembers(om, attr.has):
        names = {f.metadata["schema_property_name"] for f in attr.fields(cls)}
        if names - schema[name]:
            mismatches[name] = names - schema[name]
    # sarif-om 1.0.4 follows 2.1.0-rtm.4, where a suppression had `state`; our `Suppression` adds `status`.
    assert mismatches == {"Suppression": {"state"}}
    assert {f.metadata["schema_property_name"] for f in attr.fields(Suppression)} - schema["Suppression"] == {
        "state"
    }


def test_suppression_writes_the_final_schemas_status() -> None:
    written = to_json(Suppression(kind="external", status="accepted", justification="why"))
    assert written == {"kind": "external", "justification": "why", "status": "accepted"}


def test_none_and_meaningless_defaults_are_left_out() -> None:
    run = om.Run(tool=om.Tool(driver=om.ToolComponent(name="t", rules=[])), results=[])
    # `language: en-US`, `newlineSequences`, `contents` are sarif-om defaults nobody set.
    assert to_json(run) == {"tool": {"driver": {"name": "t", "rules": []}}, "results": []}
    region = om.Region(start_line=3)
    assert to_json(region) == {"startLine": 3}  # no charOffset/byteOffset -1 sentinels
    config = om.ReportingConfiguration(level="warning")
    assert to_json(config) == {"level": "warning"}  # no enabled: true, no rank: -1.0


def test_level_and_kind_are_written_even_when_equal_to_sarif_oms_default() -> None:
    # SARIF §3.27.10: an absent result level comes from the rule's configuration, not "warning".
    result = om.Result(message=om.Message(text="m."), level="warning", kind="fail", rule_index=0)
    assert to_json(result) == {"message": {"text": "m."}, "kind": "fail", "level": "warning", "ruleIndex": 0}
    note = om.Notification(message=om.Message(text="n."), level="warning")
    assert to_json(note) == {"message": {"text": "n."}, "level": "warning"}


def test_property_bags_keep_their_keys_and_drop_none() -> None:
    bag = {"security-severity": "8.0", "tags": ["a"], "absent": None, "nested": {"x": None, "y": 1}}
    assert to_json(om.ReportingDescriptor(id="R1", properties=bag)) == {
        "id": "R1",
        "properties": {"security-severity": "8.0", "tags": ["a"], "nested": {"y": 1}},
    }


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Color.RED, TypeError),
        (float("nan"), ValueError),
        ({1: "x"}, TypeError),
        (object(), TypeError),
    ],
)
def test_values_that_are_not_json_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_json(om.Message(text="x", properties={"value": value}))


def test_a_field_without_a_schema_name_is_refused() -> None:
    @attr.s
    class Stray:
        python_name: str = attr.ib(default="x")

    with pytest.raises(TypeError, match="names no SARIF schema property"):
        to_json(Stray())


def _properties_as_a_bag(item: build.Item, image: str | None) -> dict[str, object]:
    """A result's properties as `build.result_properties` made them before it wrote JSON values:
    every member, None where there is no value, for `to_json` to leave out."""
    decision, f = item.decision, item.decision.finding
    layer = f.layer
    properties: dict[str, object] = {
        "package": f.package.name,
        "packageType": f.package.type or None,
        "packagePath": f.package.path or None,
        "purl": f.package.purl,
        "installedVersion": f.package.version,
        "fixedVersions": list(f.fixed_versions),
        "severity": f.severity.name,
        "vendorStatus": f.status.value,
        "disposition": decision.disposition.value,
        "policyRule": str(decision.rule),
        "cvss": {"score": f.cvss.score, "vector": f.cvss.vector, "source": f.cvss.source} if f.cvss else None,
        "layer": {
            "index": layer.index,
            "diffId": layer.diff_id,
            "origin": layer.origin.value if layer.origin else None,
            "createdBy": layer.created_by,
            "dockerfileLine": layer.dockerfile_line,
        }
        if layer is not None
        else None,
        "image": image,
        "scanners": list(f.scanners),
        "otherInstalledVersions": [o.finding.package.version for o in item.others] or None,
        "action": item.action.id if item.action is not None else None,
    }
    properties.update(sarif_properties(decision))
    return properties


def _result_of_objects(
    item: build.Item, rule_index: int, uri: str, dockerfile_uri: str, image: str | None
) -> Any:
    """A result as sarif-om objects, the way `build.result` made it before it wrote JSON values."""
    decision, f = item.decision, item.decision.finding
    line = f.layer.dockerfile_line if f.layer and f.layer.dockerfile_line else None
    location = om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=dockerfile_uri if line else uri),
            region=om.Region(start_line=line or 1),
        )
    )
    suppressions = None
    if decision.disposition in (Disposition.ALLOWLISTED, Disposition.IGNORED):
        justification = words.plain(decision.reason)
        suppressions = [Suppression(kind="external", status="accepted", justification=justification)]
    properties = _properties_as_a_bag(item, image)
    fingerprints = {build.FINGERPRINT_KEY: item.fingerprint, "primaryLocationLineHash": item.fingerprint}
    return om.Result(
        rule_id=f.vulnerability_id,
        rule_index=rule_index,
        kind="fail",
        level=build.result_level(decision),
        message=om.Message(text=words.result_message(decision, item.others, item.action)),
        locations=[location],
        partial_fingerprints=fingerprints,
        suppressions=suppressions,
        properties=properties,
    )


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_results_are_written_as_sarif_oms_objects_would_be(path: Path) -> None:
    evaluation = corpus_evaluation(path)
    items = build.items(evaluation.decisions, evaluation.plan)
    # corpus_policy allowlists a finding of every report: the suppression is written too.
    assert any(i.decision.disposition is Disposition.ALLOWLISTED for i in items) or not items
    for index, item in enumerate(items):
        for where in (
            ("Dockerfile", "Dockerfile", None),
            ("a/b", "docker/app.Dockerfile", "ghcr.io/acme/app:1"),
        ):
            expected = to_json(_result_of_objects(item, index, *where))
            # Key order matters: the text is compared, not the values.
            assert json.dumps(build.result(item, index, *where)) == json.dumps(expected)
