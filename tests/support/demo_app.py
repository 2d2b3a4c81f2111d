"""The demo app (testbed/images/app on testbed/images/base) gated once with `container-gate scan`,
the real Trivy offline and the shipped default policy, by engine reference with its base image
known: the `demo` fixture."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from testbed.engine import Engine
from tests.support.fixtures import TestbedImages
from tests.support.repo_paths import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "testbed" / "images" / "app" / "Dockerfile"
"""The demo app's Dockerfile, which `--dockerfile` reads to tell its own layers' steps."""


@dataclass(frozen=True)
class Gated:
    """One `container-gate scan` of an app image."""

    code: int
    report: dict[str, Any]
    summary: str
    terminal: str

    def keys(self) -> set[tuple[str, str]]:
        """(vulnerability, package) of every finding."""
        return {(f["vulnerability_id"], f["package"]) for f in self.report["findings"]}

    def listed(self, action: Mapping[str, Any]) -> set[tuple[str, str]]:
        """(vulnerability, package) of the findings an action lists."""
        findings = self.report["findings"]
        return {(findings[i]["vulnerability_id"], findings[i]["package"]) for i in action["findings"]}


@pytest.fixture(scope="module")
def demo(
    trivy_bin: Path,
    trivy_db: Path,
    docker_engine: Engine,
    built_images: TestbedImages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Gated:
    """The demo app gated once, by engine reference, its base image known."""
    out = tmp_path_factory.mktemp("demo-gated")
    argv = ["scan", built_images.engine.app, "--base-image", built_images.engine.base]
    argv += ["--dockerfile", str(DOCKERFILE), "--ci", "none", "--trivy-bin", str(trivy_bin)]
    argv += ["--cache-dir", str(trivy_db), "--skip-db-update"]
    argv += ["--json", str(out / "gate.json"), "--markdown", str(out / "summary.md")]
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("DOCKER_HOST", docker_engine.host)
        code = main(argv)
    report = json.loads((out / "gate.json").read_text())
    return Gated(code, report, (out / "summary.md").read_text(), printed.getvalue())
