"""The actions the gate plans for the demo image are true: each one, applied for real, clears exactly
the findings it lists.

The demo app (testbed/images/app on testbed/images/base) is gated with `container-gate scan` and
the shipped default policy, with the real Trivy offline. Each action of its decision report is
then applied as a team would, with `testbed.variants.build_app_variant`: the base image rebuilt
with every step's target version (a refreshed base), the own layer's Debian package upgraded,
the npm and Python packages bumped. The variant is gated the same way, and the findings that are
gone must be exactly the ones the action listed: none kept, none more, none new. The advisories
themselves say the same (`testbed.derive_refresh.removed_by_variant`).

The same run checks the issue's targets on the demo image: at most six actions cover every
blocking finding, libc6 and libc-bin are one upgrade whose target is the highest fixed version of
their findings, and the first screen of the comment shows the verdict and every action.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.render.markdown import GITHUB_COMMENT_LIMIT
from gate.versions import compare, lowest_fix_above
from testbed.advisories import load_fixture
from testbed.derive_refresh import removed_by_variant
from testbed.engine import Engine
from testbed.variants import build_app_variant
from tests.support.demo_app import DOCKERFILE, Gated, demo
from tests.support.markdown_html import HtmlFacts, constant_columns, to_html

__all__ = ["demo"]  # the fixture, gated once for this module

FIXTURE = load_fixture()

Upgrades = dict[str, dict[str, str]]
"""`build_app_variant` keywords: base_upgrades, own_upgrades, python, npm."""


def gate(
    image: str, base: str, out: Path, trivy: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> Gated:
    argv = ["scan", image, "--base-image", base, "--dockerfile", str(DOCKERFILE), "--ci", "none"]
    argv += ["--trivy-bin", str(trivy), "--cache-dir", str(cache), "--skip-db-update"]
    argv += ["--json", str(out / "gate.json"), "--markdown", str(out / "summary.md")]
    code = main(argv)
    terminal = capsys.readouterr().out
    report = json.loads((out / "gate.json").read_text())
    return Gated(code, report, (out / "summary.md").read_text(), terminal)


def upgrades_of(action: Mapping[str, Any]) -> Upgrades:
    """What applying an action means for `build_app_variant`."""
    if action["kind"] == "base_refresh":
        # A refreshed base: every source package at its step's target, all of its binaries.
        return {
            "base_upgrades": {
                name: step["target_version"] for step in action["steps"] for name in step["packages"]
            }
        }
    target = action["target_version"]
    if action["ecosystem"] == "deb":
        return {"own_upgrades": dict.fromkeys(action["packages"], target)}
    kind = {"npm": "npm", "pypi": "python"}[action["ecosystem"]]
    return {kind: {action["package"]: target}}


def clearing(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [a for a in report["actions"] if a["blocking"]]


# --- the targets on the demo image -------------------------------------------------------------


def test_the_demo_needs_at_most_six_actions_for_every_blocking_finding(demo: Gated) -> None:
    assert demo.code == ExitCode.FAIL
    actions = clearing(demo.report)
    assert sum(a["blocking"] for a in actions) == demo.report["counts"]["blocking"] == 70
    assert demo.report["no_fix"]["blocking"] == 0
    # Four actions, each named: within the target of at most six, and more than a bound on the count.
    assert [a["id"] for a in actions] == [
        "base-refresh",
        "npm:lodash@app/node_modules/lodash",
        "deb:curl",
        "pypi:Flask@usr/local/lib/python3.11/site-packages",
    ]
    base = actions[0]
    assert base["package"] == "container-gate-testbed/base:1"
    assert (base["blocking"], base["estimated"]) == (62, True)
    assert len(base["findings"]) < base["base_findings"]  # some of the base's findings have no fix


def test_libc6_and_libc_bin_are_one_upgrade_to_the_highest_fix_of_their_findings(demo: Gated) -> None:
    base = demo.report["actions"][0]
    (glibc,) = [step for step in base["steps"] if step["package"] == "glibc"]
    assert glibc["packages"] == ["libc-bin", "libc6"]
    findings = [demo.report["findings"][i] for i in glibc["findings"]]
    assert {f["package"] for f in findings} == {"libc-bin", "libc6"}
    fixes = [lowest_fix_above("deb", f["installed_version"], f["fixed_versions"]) or "" for f in findings]
    highest = sorted(fixes, key=functools.cmp_to_key(lambda a, b: compare("deb", a, b)))[-1]
    assert glibc["target_version"] == highest == "2.36-9+deb12u4"
    assert glibc["command"] == "apt-get update && apt-get install -y --only-upgrade libc-bin libc6"


def test_the_first_screen_shows_the_verdict_and_every_action(demo: Gated) -> None:
    summary = demo.summary
    assert len(summary) <= GITHUB_COMMENT_LIMIT
    first = summary.split("<details>")[0]
    assert len(first.rstrip("\n").splitlines()) <= 25
    assert len(first) <= 3000
    html = to_html(first)
    assert "<h3>❌ container-gate: fail, 70 blocking finding(s)</h3>" in html
    assert "<strong>70 findings block; 4 actions clear them.</strong>" in html
    facts = HtmlFacts(html)
    (table,) = facts.tables
    assert table.body_rows == len(clearing(demo.report))
    assert "base image <code>container-gate-testbed/base:1</code>" in html
    for action in clearing(demo.report)[1:]:
        assert f"<code>{action['package']}</code>" in html
        assert f"<code>{action['target_version']}</code>" in html
    assert "COPY dir:" not in summary
    whole = to_html(summary)
    assert all(t.rows[0] <= 5 for t in HtmlFacts(whole).tables)
    assert constant_columns(whole) == []
    lines = demo.terminal.splitlines()
    assert lines[0] == lines[-1] == "container-gate: FAIL: 70 blocking finding(s); 4 actions clear them."


# --- each action applied for real --------------------------------------------------------------


@pytest.mark.parametrize("index", range(4), ids=["base-refresh", "lodash", "curl", "Flask"])
def test_each_action_applied_for_real_clears_exactly_its_findings(
    index: int,
    demo: Gated,
    trivy_bin: Path,
    trivy_db: Path,
    docker_engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    action = clearing(demo.report)[index]
    upgrades = upgrades_of(action)
    variant = build_app_variant(
        docker_engine.client,
        base_upgrades=upgrades.get("base_upgrades"),
        own_upgrades=upgrades.get("own_upgrades"),
        python=upgrades.get("python"),
        npm=upgrades.get("npm"),
    )
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    after = gate(variant.ref, variant.base_ref, tmp_path, trivy_bin, trivy_db, capsys)
    gone, new = demo.keys() - after.keys(), after.keys() - demo.keys()
    listed = demo.listed(action)
    assert (sorted(listed - gone), sorted(gone - listed), sorted(new)) == ([], [], [])
    by_advisories = removed_by_variant(
        FIXTURE,
        base_upgrades=upgrades.get("base_upgrades"),
        own_upgrades=upgrades.get("own_upgrades"),
        python=upgrades.get("python"),
        npm=upgrades.get("npm"),
    )
    assert gone == set(by_advisories)  # what the advisories say too
    assert after.report["counts"]["blocking"] == demo.report["counts"]["blocking"] - action["blocking"]
    assert action["id"] not in {a["id"] for a in after.report["actions"]}
