"""`explain`'s "to fix it" line: the action of the summaries' "What to do" table, or why none."""

from __future__ import annotations

from gate.model import ImageInfo, LayerOrigin
from gate.render.explain import explain
from tests.support.factories import evaluation_of, finding, layer


def fix_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("  to fix it:"))


def test_a_listed_fix_no_newer_than_the_installed_version_is_no_action() -> None:
    ev = evaluation_of(finding(version="3.0.13-1", fixed=("3.0.2-1",)))
    assert ev.plan.action_of(ev.decisions[0].finding) is None
    text, found = explain(ev, "CVE-2024-0001")
    assert found
    assert fix_line(text) == (
        "  to fix it:   no action: its listed fix is no newer than the installed version"
    )


def test_a_base_image_pinned_by_digest_is_refreshed_by_its_tag() -> None:
    pinned = "debian:12@sha256:" + "a" * 64
    ev = evaluation_of(finding(layer=layer(LayerOrigin.BASE)), image=ImageInfo("app:1", base_image=pinned))
    assert fix_line(explain(ev, "CVE-2024-0001")[0]) == (
        "  to fix it:   Rebuild on a refreshed base image debian:12"
        " (update a digest pinned in FROM to the tag's current one)"
    )


def test_the_action_is_made_safe_for_a_terminal() -> None:
    ev = evaluation_of(finding(pkg="ssl\x1b[31m", version="1", fixed=("2",)))
    line = fix_line(explain(ev, "CVE-2024-0001")[0])
    assert "\x1b" not in line
    assert line.startswith("  to fix it:   Upgrade ssl")
