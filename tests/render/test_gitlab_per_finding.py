"""Each GitLab vulnerability, made with the parts many findings share made once per report, is the
one the plain code makes for each finding alone (kept here as it was before those parts were
shared), on every corpus report and on drawn hostile findings."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.model import Cvss, Finding, ImageInfo, Layer, LayerOrigin, Severity, VendorStatus
from gate.policy.actions import Action, ActionKind
from gate.policy.evaluation import Decision, Evaluation
from gate.render import gitlab
from gate.render._exploit import kev_note
from gate.render._gitlab_ids import cvss_vectors, identifiers
from gate.render._markdown_actions import what_cell
from gate.render.remediation import estimate_words, pinned_words, refreshed_base
from gate.untrusted import md_code, safe_url, shorten, terminal_safe
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import NOW, evaluation_of, finding

# The code before, for one finding alone.


def _plain_text(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "type": "text", "value": value}


def _plain_layer_items(layer: Layer, base: str | None) -> dict[str, Any]:
    items: dict[str, Any] = {}
    if layer.origin is not None:
        origin = "base image" if layer.origin is LayerOrigin.BASE else "own layer"
        if layer.origin is LayerOrigin.BASE and base:
            origin += f" ({terminal_safe(base)})"
        items["layer_origin"] = _plain_text("Layer origin", origin)
    if layer.created_by:
        items["layer_created_by"] = {
            "name": "Layer created by",
            "type": "code",
            "value": terminal_safe(layer.created_by, 2000),
        }
    if layer.dockerfile_line is not None:
        items["dockerfile_line"] = {
            "name": "Dockerfile line",
            "type": "value",
            "value": layer.dockerfile_line,
        }
    if layer.diff_id:
        items["layer_diff_id"] = _plain_text("Layer diff ID", terminal_safe(layer.diff_id))
    return items


def _plain_details(decision: Decision, base: str | None) -> dict[str, Any]:
    f = decision.finding
    text = f"{decision.disposition.value}: {decision.reason} ({decision.rule})"
    items: dict[str, Any] = {"policy_decision": _plain_text("Policy decision", terminal_safe(text))}
    if f.fixed_versions:
        items["fixed_versions"] = _plain_text("Fixed versions", terminal_safe(", ".join(f.fixed_versions)))
    items["vendor_status"] = _plain_text("Vendor status", f.status.value)
    if f.package.path:
        items["package_path"] = _plain_text("Path in the image", terminal_safe(f.package.path))
    if f.package.type:
        items["package_type"] = _plain_text("Package type", terminal_safe(f.package.type))
    if f.package.purl:
        items["purl"] = _plain_text("Package URL", terminal_safe(f.package.purl))
    if f.cvss is not None:
        source = f" ({terminal_safe(f.cvss.source)})" if f.cvss.source else ""
        items["cvss_score"] = {"name": f"CVSS score{source}", "type": "value", "value": f.cvss.score}
    if f.layer is not None:
        items.update(_plain_layer_items(f.layer, base))
    if f.scanners:
        items["scanners"] = _plain_text("Found by", terminal_safe(", ".join(f.scanners)))
    return items


def _plain_solution(finding: Finding, action: Action | None) -> str | None:
    def code(text: str) -> str:
        return md_code(text, gitlab.SOLUTION_PART_LIMIT, in_table=False)

    if not finding.fixable:
        return None
    versions = " or ".join(code(v) for v in finding.fixed_versions) or gitlab.NO_VERSION_NAMED
    own = f"upgrade {code(finding.package.name)} to {versions}"
    if action is None or (action.kind is ActionKind.PACKAGE_UPGRADE and action.target_version is None):
        return shorten(own[:1].upper() + own[1:], gitlab.SOLUTION_LIMIT)
    if action.kind is ActionKind.BASE_REFRESH:
        name, words, estimate = refreshed_base(action), pinned_words(action), estimate_words(action)
        rebuild = "Rebuild on a refreshed base image" + (f" {code(name)}" if name else "")
        rebuild += f" ({words})" if words else ""
        text = f"{rebuild}{f' ({estimate})' if estimate else ''}; to patch the image instead, {own}"
    else:
        text = f"{what_cell(action, in_table=False)}, which fixes every finding of the package"
    command = f": {code(action.command)}" if action.command else ""
    return shorten(f"{text}{command} (action {code(action.id)})", gitlab.SOLUTION_LIMIT)


def _plain_vulnerability(
    decision: Decision, vuln_id: str, evaluation: Evaluation, location: dict[str, Any]
) -> dict[str, Any]:
    f = decision.finding
    image = evaluation.report.image
    vuln: dict[str, Any] = {
        "id": vuln_id,
        "name": terminal_safe(f.title, gitlab.NAME_LIMIT)
        or terminal_safe(f.vulnerability_id, gitlab.NAME_LIMIT),
        "severity": gitlab.SEVERITIES[f.severity],
    }
    if f.description:
        vuln["description"] = gitlab._markdown_escaped(f.description, gitlab.DESCRIPTION_LIMIT)
    note = kev_note(decision)
    if note is not None:
        rest = vuln.get("description")
        vuln["description"] = shorten(
            f"**{note}**" + (f"\n\n{rest}" if rest else ""), gitlab.DESCRIPTION_LIMIT
        )
    solution = _plain_solution(f, evaluation.plan.action_of(f))
    if solution:
        vuln["solution"] = solution
    vuln["identifiers"] = identifiers(f)
    vectors = cvss_vectors(f)
    if vectors:
        vuln["cvss_vectors"] = vectors
    url = safe_url(f.primary_url)
    if url:
        vuln["links"] = [{"url": url}]
    vuln["location"] = location
    vuln["details"] = _plain_details(decision, image.base_image if image else None)
    return vuln


def _texts(values: list[dict[str, Any]]) -> list[str]:
    # As text: equal dicts may still be written otherwise (key order, 0.0 and -0.0, 1 and 1.0).
    return [json.dumps(value, indent=2, ensure_ascii=False) for value in values]


def assert_each_vulnerability_as_made_alone(evaluation: Evaluation) -> None:
    image, operating_system, default_branch, _notes = gitlab._image_and_notes(
        evaluation, gitlab.GitLabReportOptions(start_time=NOW, end_time=NOW)
    )
    ids = gitlab.vulnerability_ids(evaluation)
    names = gitlab.tracked_names(evaluation)
    made = list(gitlab._vulnerabilities(evaluation, ids, image, operating_system, default_branch))
    alone = [
        _plain_vulnerability(
            d,
            ids[d.finding.key],
            evaluation,
            gitlab._location(d.finding, image, operating_system, default_branch, names.get(d.finding.key)),
        )
        for d in gitlab._listed(evaluation)
    ]
    assert _texts(made) == _texts(alone)


@pytest.mark.parametrize("path", corpus_reports(), ids=lambda p: p.name)
def test_each_vulnerability_of_a_corpus_report_is_the_one_made_alone(path: Any) -> None:
    assert_each_vulnerability_as_made_alone(corpus_evaluation(path))


_HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "a",
        "a b",
        "a  b",
        " a",
        "a\n\x1b[31mb",
        "\u202eevil",
        "\u00e9\u4e00",
        "x" * 300,
        "a\x00b",
        "&<>\"'",
    ]
)
_LAYERS = [
    Layer(diff_id="sha256:0", origin=LayerOrigin.BASE, created_by="FROM debian", dockerfile_line=1),
    Layer(diff_id="sha256:1", origin=LayerOrigin.OWN, created_by="RUN  x\n\x1b[31m"),
    Layer(diff_id=None, origin=None),
]
_LAYER = st.sampled_from([None, *_LAYERS]) | st.builds(
    lambda origin, by: Layer(diff_id="sha256:2", origin=origin, created_by=by),
    st.sampled_from([None, *LayerOrigin]),
    _HOSTILE,
)
_CVSS = st.one_of(
    st.none(),
    st.builds(
        Cvss,
        st.sampled_from([0.0, -0.0, 7, 7.0, 9.8, 1e-5, 10.0]),
        st.sampled_from([None, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:N/AC:L/Au:N/C:P/I:P/A:P"]),
        st.sampled_from([None, "nvd", "ghsa", "x\x1by", ""]),
    ),
)


@st.composite
def _findings(draw: st.DrawFn) -> list[Finding]:
    found = []
    for n in range(draw(st.integers(1, 8))):
        base = finding(
            draw(st.sampled_from(["CVE-2024-0001", "CVE-2024-0002", "GHSA-aaaa-bbbb-cccc", "x y"])),
            pkg=draw(st.sampled_from(["a", "b", f"p{n}"])) + draw(_HOSTILE),
            version=draw(st.sampled_from(["1.0", "2.0"])),
            path=draw(_HOSTILE),
            purl=draw(st.none() | _HOSTILE),
            type=draw(st.sampled_from(["debian", "npm", "", "\x1b"])),
            severity=draw(st.sampled_from(Severity)),
            fixed=draw(st.sampled_from([(), ("1.1",), ("1.1", "2.\x1b")])),
            status=draw(st.sampled_from(VendorStatus)),
            aliases=draw(st.sampled_from([(), ("GHSA-x",), ("", " ")])),
            title=draw(st.none() | _HOSTILE),
            description=draw(st.none() | _HOSTILE),
            primary_url=draw(
                st.sampled_from([None, "https://example.com/a", "https://example.com/a b", "x"])
            ),
            layer=draw(_LAYER),
            scanners=draw(st.sampled_from([(), ("trivy",), ("trivy", "grype\n")])),
        )
        found.append(replace(base, cvss=draw(_CVSS)))
    return found


@settings(max_examples=300, deadline=None)
@given(found=_findings(), base=st.sampled_from([None, "debian:12", "x\x1b"]))
def test_each_drawn_vulnerability_is_the_one_made_alone(found: list[Finding], base: str | None) -> None:
    image = ImageInfo(reference="registry.example/app:1", base_image=base)
    assert_each_vulnerability_as_made_alone(evaluation_of(*found, image=image))


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.lists(st.text(), max_size=1))
def test_the_id_is_uuid5_s_text(vid: str, pkg: str, path: str, extra: list[str]) -> None:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "container-gate:gitlab-container-scanning:vulnerability")
    try:
        name = "\x1f".join((vid, pkg, path, *extra)).encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate: neither can make an id of it
    expected = str(uuid.uuid5(namespace, name.decode("utf-8")))
    assert gitlab.vulnerability_uuid(finding(vid, pkg=pkg, path=path), *extra) == expected
