"""What `scan --check-base` says a rebuild removes is what a real rebuild removes.

The test bed's base-refresh scenario (testbed/base_refresh.py) leaves each app built on a base
whose tag may have moved on. Here each app is rebuilt for real, by the engine, FROM its base's tag
as it is now, and gated again: the findings that are gone must be exactly those the check
listed in its base-refresh action (none more, none fewer), and the rebuilt image's base is
current. The same holds when the base is known from the Dockerfile alone (no labels): several
FROM stages, an ARG in FROM and a digest-pinned FROM.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import docker
import pytest

from testbed.base_refresh import BaseRefreshScenario, RefreshCase, build_app_on
from testbed.derive_refresh import load_refresh_expected
from testbed.engine import Engine
from testbed.images import IMAGES_DIR, prepare_context

EXPECTED = load_refresh_expected()
CASES = ("stale", "unchanged", "multi_platform")


@pytest.fixture(scope="module")
def rebuilt(base_refresh: BaseRefreshScenario, docker_engine: Engine) -> dict[str, str]:
    """Each case's app, rebuilt FROM its base's tag as it is now (and labelled so)."""
    refs = {}
    for case in CASES:
        scenario: RefreshCase = getattr(base_refresh, case)
        ref = f"{base_refresh.registry}/container-gate-testbed/rebuilt-{case.replace('_', '-')}:1"
        build_app_on(docker_engine.client, scenario.base, ref, scenario.current_digest)
        refs[case] = ref
    return refs


@pytest.mark.parametrize("case", CASES)
def test_a_rebuild_on_the_tag_now_removes_exactly_what_the_check_said(
    case: str, offline_scan: Any, base_refresh: BaseRefreshScenario, rebuilt: dict[str, str]
) -> None:
    scenario: RefreshCase = getattr(base_refresh, case)
    checked = offline_scan(f"docker://{scenario.app}", "--check-base")
    claimed = checked.claimed()
    removes = checked.json["base_image"]["rebuild_removes"]
    assert removes["findings"] == len(claimed) == len(EXPECTED[case].removed)
    after = offline_scan(f"docker://{rebuilt[case]}", "--check-base")
    assert checked.keys() - after.keys() == claimed
    # The rebuilt image is on the tag as it is now: nothing left to remove.
    base = after.json["base_image"]
    assert (base["checked"], base["stale"], base["behind_days"]) == (True, False, 0)
    assert base["digest"] == base["current_digest"] == scenario.current_manifest
    assert after.claimed() == set()


def app_dockerfile(base_line: str) -> str:
    """The test bed's app Dockerfile with another FROM, a build stage first, and no labels."""
    own = [
        line
        for line in (IMAGES_DIR / "app" / "Dockerfile").read_text().splitlines()
        if line.startswith(("COPY", "RUN", "CMD"))
    ]
    return "\n".join(
        [
            base_line,
            "FROM ${BASE} AS build",
            "RUN echo built > /built.txt",
            "",
            "FROM ${BASE}",
            "COPY --from=build /built.txt /built.txt",
            *own,
            "",
        ]
    )


def build_unlabelled(client: docker.DockerClient, dockerfile: str, ref: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cg-context-") as tmp:
        context = prepare_context("app", Path(tmp))
        (context / "Dockerfile").write_text(dockerfile)
        client.images.build(path=str(context), tag=ref, rm=True, forcerm=True)


@pytest.mark.parametrize("case", ["stale", "unchanged"])
def test_a_dockerfile_with_stages_and_a_pinned_from_names_the_base(
    case: str,
    offline_scan: Any,
    base_refresh: BaseRefreshScenario,
    docker_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario: RefreshCase = getattr(base_refresh, case)
    pinned = f"{scenario.base}@{scenario.used_manifest}"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(app_dockerfile(f"ARG BASE={pinned}"))
    ref = f"container-gate-testbed/pinned-{case}:1"
    build_unlabelled(docker_engine.client, dockerfile.read_text(), ref)
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    run = offline_scan(f"docker-daemon:{ref}", "--dockerfile", str(dockerfile), "--check-base")
    base = run.json["base_image"]
    assert run.json["image"]["labels"] == {}
    assert (base["name"], base["digest"], base["checked"]) == (scenario.base, scenario.used_manifest, True)
    assert base["current_digest"] == scenario.current_manifest
    assert base["behind_days"] == EXPECTED[case].behind_days
    assert run.claimed() == set(EXPECTED[case].removed)
    assert run.json["warnings"] == []
    if case == "stale":
        # The Dockerfile as it was before the pin: the tag alone cannot tell which base it was.
        unpinned = tmp_path / "Dockerfile.tag"
        unpinned.write_text(app_dockerfile(f"ARG BASE={scenario.base}"))
        without = offline_scan(f"docker-daemon:{ref}", "--dockerfile", str(unpinned))
        run = offline_scan(f"docker-daemon:{ref}", "--dockerfile", str(unpinned), "--check-base")
        assert (run.code, run.json["counts"]) == (without.code, without.json["counts"])
        base = run.json["base_image"]
        assert (base["name"], base["checked"], base["rebuild_removes"]) == (scenario.base, False, None)
        assert base["reason"].startswith(
            f"cannot tell which {scenario.base} docker-daemon:{ref} was built on"
        )
