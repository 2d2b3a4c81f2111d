"""`container-gate scan` end to end: the REAL Trivy, offline, on the test bed's real images.

Every image source (a `docker save` archive, an engine-less archive, the engine, the loopback
registry) must give exactly the findings of testbed/expected.yaml, attributed to their layers and
to the base image or the app's own layers; the policy decides the exit code; every failure is
exit 3 with a one-line message and error outputs. The Grype side of `--scanner both` is a
stand-in replaying a real Grype report (tests/support/standins.py).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.cli.main import main
from gate.errors import ExitCode
from testbed.__main__ import main as prepare_testbed
from testbed.demo import main as demo_main
from testbed.engine import Engine
from testbed.expected import BASE_LAYERS
from testbed.images import ArchiveImages
from tests.support.doc_samples import lines_match, sample_after
from tests.support.fixtures import TestbedImages
from tests.support.registry_tools import (
    OCI_MANIFEST,
    index_of,
    oci_image,
    read_docker_archive,
    two_platform_oci_archive,
    write_oci_archive,
)
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.ruby_image import RubyImage, build_ruby_image
from tests.support.scan_support import NO_NETWORK, Row, Run, assert_exact, fresh_cache, fresh_db, scan
from tests.support.standins import grype_standin, stopped, trivy_standin

__all__ = ["fresh_cache", "scan"]  # the fixtures, for this module


def rows(doc: dict[str, Any]) -> list[Row]:
    return [
        Row(
            f["vulnerability_id"],
            f["package"],
            f["installed_version"],
            f["layer"]["index"] if f["layer"] else None,
            f["package_type"],
            tuple(f["fixed_versions"]),
            f["status"],
        )
        for f in doc["findings"]
    ]


def assert_gated(image: str, run: Run, reference: str) -> None:
    """Exact findings, each in its layer and marked base or own; the default policy blocks."""
    assert run.code == ExitCode.FAIL, run.stderr
    doc = run.json
    assert doc["verdict"] == "fail"
    assert_exact(image, rows(doc))
    for finding in doc["findings"]:
        origin = "base" if finding["layer"]["index"] < BASE_LAYERS else "own"
        assert finding["layer"]["origin"] == origin, finding["vulnerability_id"]
        assert finding["scanners"] == ["trivy"]
    assert doc["image"]["reference"] == reference
    assert doc["image"]["platform"] == "linux/amd64"
    assert doc["image"]["base_layer_count"] == BASE_LAYERS
    assert doc["sources"] == [reference]
    (scanner,) = doc["scanners"]
    assert scanner["name"] == "trivy"
    assert scanner["version"]
    assert scanner["db_updated_at"]
    assert doc["warnings"] == []
    # Trivy's package list names the source package of every Debian package.
    sources = {f["package"]: f["source_package"] for f in doc["findings"] if f["package_type"] == "debian"}
    assert sources["libc6"] == sources["libc-bin"] == "glibc"
    assert sources["libssl3"] == sources["openssl"] == "openssl"
    assert sources["libcurl4"] == "curl"
    assert all(sources.values()), sources
    verdict = f"container-gate: FAIL: {doc['counts']['blocking']} blocking finding(s); 4 actions clear them."
    assert run.stdout.splitlines()[0] == run.stdout.splitlines()[-1] == verdict


def assert_error(run: Run, message: str) -> None:
    """Exit 3, one line on stderr that starts with `message`, and error outputs."""
    assert run.code == ExitCode.ERROR
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"container-gate: error: {message}"), lines[0]
    assert run.json["verdict"] == "error"
    assert run.json["error"]["exit_code"] == ExitCode.ERROR
    assert "error, no verdict" in (run.out / "summary.md").read_text()


# --- every image source ---------------------------------------------------------------------------


def test_engine_saved_archive(scan: Any, fresh_cache: Path, built_images: TestbedImages) -> None:
    image = f"docker-archive:{built_images.app_archive}"
    run = scan(image, "--base-image", f"docker-archive:{built_images.base_archive}", cache=fresh_cache)
    assert_gated("app", run, image)


def test_engineless_archive(scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    run = scan(image, "--base-image", f"docker-archive:{engineless_archives.base}", cache=fresh_cache)
    assert_gated("app", run, image)


def test_oci_archive(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    # An OCI image layout tarball, gzip-compressed as `skopeo copy ... oci-archive:` can write it.
    app = oci_image(*read_docker_archive(engineless_archives.app))
    plain = write_oci_archive(
        tmp_path / "app.tar", index_of([(app.manifest, OCI_MANIFEST, None)]), app.blobs()
    )
    path = tmp_path / "app-oci.tar.gz"
    path.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    image = f"oci-archive:{path}"
    run = scan(image, "--base-image", f"docker-archive:{engineless_archives.base}", cache=fresh_cache)
    assert_gated("app", run, image)


@pytest.mark.parametrize(
    ("platform", "expected"), [("linux/arm64/v8", "base"), ("linux/amd64", "app")], ids=["arm64", "amd64"]
)
def test_multi_platform_oci_archive_scans_the_chosen_platform(
    scan: Any,
    fresh_cache: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    expected: str,
) -> None:
    # linux/amd64 is the app image and linux/arm64/v8 the base image: the findings say which one
    # Trivy read (of a layout holding both, Trivy reads the first whatever --platform says).
    path, _, _ = two_platform_oci_archive(engineless_archives, tmp_path / "two.tar")
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    run = scan(f"oci-archive:{path}", "--platform", platform, cache=fresh_cache)
    assert run.code == ExitCode.FAIL, run.stderr
    assert_exact(expected, rows(run.json))
    assert run.json["image"]["platform"] == platform
    assert list(private.iterdir()) == []  # the unpacked image is gone


def test_a_dockerfile_outside_the_repository_only_matters_to_sarif(
    scan: Any,
    fresh_cache: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    elsewhere = tmp_path / "elsewhere" / "Dockerfile"
    elsewhere.parent.mkdir()
    shutil.copy(PROJECT_ROOT / "testbed" / "images" / "app" / "Dockerfile", elsewhere)
    image = f"docker-archive:{engineless_archives.app}"
    base = ["--base-image", f"docker-archive:{engineless_archives.base}", "--dockerfile", str(elsewhere)]
    run = scan(image, *base, cache=fresh_cache)
    assert run.code == ExitCode.FAIL
    assert run.stderr == ""
    # The lines were still mapped: the findings point at the Dockerfile's instructions.
    assert {f["layer"]["dockerfile_line"] for f in run.json["findings"]} - {None}
    run = scan(image, *base, "--sarif", str(tmp_path / "gate.sarif"), cache=fresh_cache)
    assert run.code == ExitCode.USAGE
    assert f"{elsewhere}: not inside the repository" in run.stderr
    assert run.json["verdict"] == "fail"


def test_engine_reference(
    scan: Any,
    fresh_cache: Path,
    built_images: TestbedImages,
    docker_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    run = scan(built_images.engine.app, "--base-image", built_images.engine.base, cache=fresh_cache)
    assert_gated("app", run, built_images.engine.app)


def test_registry_reference(scan: Any, fresh_cache: Path, built_images: TestbedImages) -> None:
    # `docker://` says "the registry only": no engine is asked first.
    image, base = f"docker://{built_images.registry_app}", f"docker://{built_images.registry_base}"
    run = scan(image, "--base-image", base, cache=fresh_cache)
    assert_gated("app", run, image)
    assert run.json["image"]["digest"].startswith("sha256:")


@pytest.mark.skipif(not NO_NETWORK, reason="needs `unshare -n` (root, util-linux)")
def test_the_whole_gate_runs_without_network(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    argv = [
        shutil.which("unshare") or "unshare",
        "-n",
        sys.executable,
        "-c",
        "from gate.cli.main import run; run()",
    ]
    argv += ["scan", image, "--base-image", f"docker-archive:{engineless_archives.base}", "--ci", "none"]
    argv += ["--trivy-bin", str(trivy_bin), "--cache-dir", str(fresh_cache), "--skip-db-update"]
    argv += ["--json", str(tmp_path / "gate.json")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    doc = json.loads((tmp_path / "gate.json").read_text())
    assert_gated("app", Run(done.returncode, done.stdout, done.stderr, doc, tmp_path), image)


# --- the policy decides ------------------------------------------------------------------------------


def test_an_allowlist_makes_it_pass(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    first = scan(image, cache=fresh_cache)
    blocking = [f for f in first.json["findings"] if f["disposition"] == "blocking"]
    assert first.code == ExitCode.FAIL
    assert blocking
    policy = {
        "version": 1,
        "fail_on": {"severity": "HIGH", "fixable_only": True},
        "allowlist": [
            {
                "vulnerability": f["vulnerability_id"],
                "package": f["package"],
                "reason": "test: accepted until the base image is rebuilt",
                "expires": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            }
            for f in blocking
        ],
    }
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    second = scan(image, "--policy", str(tmp_path / "policy.yaml"), cache=fresh_cache)
    assert second.code == ExitCode.PASS, second.stderr
    assert second.json["verdict"] == "pass"
    assert second.json["counts"]["allowlisted"] == len(blocking)
    assert second.json["counts"]["blocking"] == 0
    assert len(second.json["findings"]) == len(first.json["findings"])


def test_advisory_mode_exits_0(scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages) -> None:
    run = scan(f"docker-archive:{engineless_archives.base}", "--advisory", cache=fresh_cache)
    assert run.code == ExitCode.PASS
    assert run.json["would_block"] > 0


class Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_only(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = f"docker-archive:{engineless_archives.app}"
    assert "scanning" not in scan(image, cache=fresh_cache).stderr  # a CI log: nothing
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")  # one that redraws a line
    run = scan(image, cache=fresh_cache)
    assert run.code == ExitCode.FAIL
    shown = terminal.getvalue()
    assert re.match(r"\r\x1b\[Kscanning docker-archive:\S+ \(0 s\)", shown), shown  # a long name is cut
    assert re.search(rf"\r\x1b\[Kscanned {re.escape(image)} \(\d+\.\d s\)\n", shown), shown
    assert shown.endswith("\r\x1b[K")  # the status line is cleared before the summary
    assert "scanning docker" not in run.stdout
    assert "scanned docker" not in run.stdout
    terminal.seek(0)
    terminal.truncate()
    scan(image, "--quiet", cache=fresh_cache)
    assert "scann" not in terminal.getvalue()  # --quiet: the verdict line alone (on stdout)
    terminal.seek(0)
    terminal.truncate()
    # A scan that fails leaves its line to the error message.
    failed = scan("docker-archive:/nonexistent.tar", cache=fresh_cache)
    assert failed.code == ExitCode.ERROR
    assert "failed" not in terminal.getvalue()


# --- the DB's age ----------------------------------------------------------------------------------------


def test_old_db_is_a_warning_in_every_output(
    scan: Any, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    cache = fresh_db(tmp_path / "old", age=dt.timedelta(days=9))
    run = scan(f"docker-archive:{engineless_archives.base}", cache=cache)
    assert run.code == ExitCode.FAIL
    (warning,) = run.json["warnings"]
    assert warning.startswith("Trivy's vulnerability DB is 9.0 days old")
    assert f"warning:  {warning}" in run.stdout
    # The Markdown escapes punctuation; the text is there once the escapes are dropped.
    assert "Trivy's vulnerability DB is 9.0 days old" in (run.out / "summary.md").read_text().replace(
        "\\", ""
    )


def test_old_db_is_an_error_when_strict(
    scan: Any, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    cache = fresh_db(tmp_path / "old", age=dt.timedelta(hours=30))
    run = scan(
        f"docker-archive:{engineless_archives.base}", "--max-db-age", "1d", "--max-db-age-strict", cache=cache
    )
    assert_error(run, "Trivy's vulnerability DB is 30 hours old")
    assert run.json["error"]["message"].startswith("Trivy's vulnerability DB is 30 hours old")


# --- every failure is exit 3 with one line ---------------------------------------------------------------


def test_missing_db(scan: Any, tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    run = scan(f"docker-archive:{engineless_archives.base}", cache=tmp_path / "empty")
    assert_error(run, f"Trivy has no vulnerability DB in {tmp_path / 'empty'}, and --skip-db-update forbids")
    assert "trivy image --download-db-only" in run.stderr


def test_db_not_downloadable_and_verbose_shows_trivy_stderr(
    scan: Any, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    image = f"docker-archive:{engineless_archives.base}"
    args = ["--cache-dir", str(tmp_path / "empty"), "--db-repository", "127.0.0.1:9/trivy-db:2"]
    run = scan(image, *args)
    assert_error(run, "Trivy could not download its vulnerability DB from 127.0.0.1:9/trivy-db:2: ")
    assert "FATAL" not in run.stderr
    verbose = scan(image, *args, verbose=True)
    assert verbose.code == ExitCode.ERROR
    # --verbose adds the traceback and the tail of Trivy's own error output (its tabs may be
    # shown as spaces: the output is made terminal-safe).
    assert "Traceback (most recent call last):" in verbose.stderr
    assert re.search(
        r"FATAL\s+Fatal error\s+run error: init error: DB error: failed to download vulnerability DB",
        verbose.stderr,
    )


def test_timeout(scan: Any, tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    cache = fresh_db(tmp_path / "new")
    run = scan(f"docker-archive:{engineless_archives.app}", "--scan-timeout", "0.001", cache=cache)
    assert_error(run, "Trivy did not finish within --scan-timeout 0.001 s")


def test_archive_not_found(scan: Any, fresh_cache: Path, tmp_path: Path) -> None:
    run = scan(f"docker-archive:{tmp_path / 'missing.tar'}", cache=fresh_cache)
    assert_error(run, f"docker-archive:{tmp_path / 'missing.tar'}: no such file")


# `docker-daemon:` asks the engine only: a bare name would go on to Docker Hub, and tests stay on loopback.


def test_image_not_in_the_engine(
    scan: Any, fresh_cache: Path, docker_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    run = scan("docker-daemon:nosuch/image:1", cache=fresh_cache)
    assert_error(run, f"the engine at {docker_engine.host} has no image nosuch/image:1")


def test_engine_unreachable(scan: Any, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    run = scan("docker-daemon:container-gate-testbed/app:1", cache=fresh_cache)
    assert_error(run, "")
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in run.stderr


def test_scanner_missing(
    scan: Any, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    run = scan(
        f"docker-archive:{engineless_archives.base}",
        "--trivy-bin",
        str(tmp_path / "trivy"),
        cache=fresh_cache,
    )
    assert_error(run, f"trivy not found at {tmp_path / 'trivy'} (given by --trivy-bin) (install Trivy 0.63.0")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (
            "old-version",
            "Trivy 0.49.1 at {path} is not supported: container-gate needs Trivy 0.63.0 or later",
        ),
        ("garbage", "Trivy exited 0 but its output is not a usable report"),
        ("crash", "Trivy failed (killed by SIGSEGV)"),
    ],
)
def test_broken_scanner_stand_in(
    mode: str, message: str, scan: Any, fresh_cache: Path, trivy_bin: Path, tmp_path: Path,
    engineless_archives: ArchiveImages,
) -> None:  # fmt: skip
    standin = trivy_standin(tmp_path / "bin", trivy_bin, mode)
    run = scan(
        f"docker-archive:{engineless_archives.base}", "--trivy-bin", str(standin.path), cache=fresh_cache
    )
    assert_error(run, message.format(path=standin.path))


@pytest.mark.parametrize(
    "args",
    [
        ["--max-db-age", "5x"],
        ["--max-db-age", "9999999999d"],
        ["--platform", "amd64"],
        ["--platform", "linux/amd64\n"],
        ["--scan-timeout", "0"],
        ["--scan-timeout", "inf"],
        ["--scan-timeout", "1e9"],
        ["--scanner", "snyk"],
    ],
)
def test_usage_errors(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["scan", "docker-archive:app.tar", *args])
    assert caught.value.code == ExitCode.USAGE
    assert "container-gate scan: error: argument" in capsys.readouterr().err


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "ci-cancel"])
def test_an_interrupted_scan_stops_the_scanner_and_its_children(
    fresh_cache: Path,
    trivy_bin: Path,
    tmp_path: Path,
    engineless_archives: ArchiveImages,
    sent: signal.Signals,
) -> None:
    """Ctrl-C (SIGINT) or a cancelled CI job (SIGTERM) reaches the gate only: the scanner runs in
    its own session, so the gate kills it."""
    standin = trivy_standin(tmp_path / "bin", trivy_bin, "hang")
    # Python ignores SIGINT if its parent did; the gate under test must get the default handler.
    code = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    code += "from gate.cli.main import run; run()"
    argv = [sys.executable, "-c", code, "scan", f"docker-archive:{engineless_archives.base}", "--ci", "none"]
    argv += ["--trivy-bin", str(standin.path), "--cache-dir", str(fresh_cache), "--skip-db-update"]
    argv += ["--scan-timeout", "3600", "--json", "gate.json", "--sarif", "gate.sarif"]
    # An earlier run's verdict, which a step after a cancelled job must not take for this one's.
    (tmp_path / "gate.json").write_text('{"verdict": "pass"}', encoding="utf-8")
    (tmp_path / "gate.sarif").write_text("{}", encoding="utf-8")
    gate = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not standin.pids() and gate.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = standin.pids()
        assert len(pids) == 2, "the scanner stand-in and its child started"
        gate.send_signal(sent)
        _, stderr = gate.communicate(timeout=120)  # without the kill, the gate waits for the scan
    finally:
        if gate.poll() is None:
            gate.kill()
            gate.wait()
        for pid in standin.pids():
            if not stopped([pid], within=0):
                os.kill(pid, signal.SIGKILL)
    assert gate.returncode == 130
    assert stderr.strip().splitlines()[-1] == "container-gate: interrupted"
    assert stopped(pids)
    report = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))
    assert (report["verdict"], report["error"]["exit_code"]) == ("error", 130)
    assert not (tmp_path / "gate.sarif").exists()


# --- both scanners ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ruby(tmp_path_factory: pytest.TempPathFactory) -> RubyImage:
    return build_ruby_image(tmp_path_factory.mktemp("ruby"))


def test_both_scanners_mark_agreement(scan: Any, ruby: RubyImage, tmp_path: Path) -> None:
    image = f"docker-archive:{ruby.archive}"
    grype = grype_standin(tmp_path / "bin", expect_source=image, db_built=dt.datetime.now(dt.UTC).isoformat())
    run = scan(
        image,
        "--scanner",
        "both",
        "--grype-bin",
        str(grype.path),
        "--max-db-age",
        "36500d",
        cache=ruby.cache_dir,
    )
    assert run.code == ExitCode.FAIL, run.stderr
    found = {(f["vulnerability_id"], f["package"]): f["scanners"] for f in run.json["findings"]}
    # Both report CVE-2023-28755 in Wolfi's ruby-3.0 and in the uri gem (Grype under its GHSA id
    # too, which merges through the alias); nothing is lost from either side.
    assert found[("CVE-2023-28755", "ruby-3.0")] == ["trivy", "grype"]
    assert found[("CVE-2023-28755", "uri")] == ["trivy", "grype"]
    assert [s["name"] for s in run.json["scanners"]] == ["trivy", "grype"]
    assert run.json["scanners"][1]["version"] == "0.92.2"
    assert "agreement: " in run.stdout
    assert "FOUND BY" in run.stdout
    assert "trivy+grype" in run.stdout
    summary = (run.out / "summary.md").read_text()
    assert "Scanners agree on" in summary
    assert "Found by" not in summary  # a finding one scanner alone found is marked in its cell
    alone = [f for f in run.json["findings"] if len(f["scanners"]) == 1]
    assert summary.count(" only</sub>") == len(alone)


# --- the documentation's examples run ---------------------------------------------------------------------


def doc_examples(path: Path) -> list[tuple[str, str]]:
    """(commands, expected stderr line) pairs of the "Failure messages" section of docs/scanning.md."""
    section = path.read_text().split("\n## Failure messages\n", 1)[1]
    blocks = re.findall(r"```(sh|text)\n(.*?)```", section, flags=re.DOTALL)
    return [
        (first[1], second[1].strip())
        for first, second in itertools.pairwise(blocks)
        if first[0] == "sh" and second[0] == "text"
    ]


def run_doc_example(commands: str, trivy_bin: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A docs/scanning.md example run by bash as a user would, with the gate and the real Trivy on
    PATH and no Docker engine or scanner binary named in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "TRIVY_BIN", "GRYPE_BIN")}
    env["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{trivy_bin.parent}{os.pathsep}{env.get('PATH', '')}"
    )
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run(
        ["bash", "-c", commands], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_documented_failure_examples_run(trivy_bin: Path, tmp_path: Path) -> None:
    examples = doc_examples(PROJECT_ROOT / "docs" / "scanning.md")
    assert len(examples) >= 8
    today = dt.date.today().isoformat()
    assert prepare_testbed(["prepare", str(tmp_path / "out" / "testbed"), "--updated-at", today]) == 0
    assert prepare_testbed(["prepare", str(tmp_path / "out" / "old"), "--updated-at", "2020-01-01"]) == 0
    for commands, expected in examples:
        done = run_doc_example(commands, trivy_bin, tmp_path)
        assert done.returncode == ExitCode.ERROR, f"{commands}\n{done.stderr}"
        pattern = ".*".join(re.escape(piece) for piece in expected.split("..."))
        assert re.fullmatch(pattern, done.stderr.strip()), (
            f"{commands}\nexpected: {expected}\ngot:      {done.stderr}"
        )


def test_documented_offline_examples_print_what_the_page_shows(trivy_bin: Path, tmp_path: Path) -> None:
    """docs/scanning.md's examples before its failure messages that prepare the test bed themselves:
    each runs as written and prints every line of the ```text block after it (`...`: anything)."""
    text = (PROJECT_ROOT / "docs" / "scanning.md").read_text().split("\n## Failure messages\n", 1)[0]
    blocks = re.findall(r"```(sh|text)\n(.*?)```", text, flags=re.DOTALL)
    examples = [
        (first[1], second[1].strip())
        for first, second in itertools.pairwise(blocks)
        if first[0] == "sh" and second[0] == "text" and first[1].startswith("python -m testbed prepare ")
    ]
    assert len(examples) == 2
    for commands, expected in examples:
        done = run_doc_example(f"set -e\n{commands}", trivy_bin, tmp_path)
        assert done.returncode == ExitCode.FAIL, f"{commands}\n{done.stderr}"
        printed = done.stdout.splitlines()
        for line in expected.splitlines():
            pattern = ".*".join(re.escape(piece) for piece in line.split("..."))
            assert any(re.fullmatch(pattern, real) for real in printed), (
                f"{commands}\nmissing: {line}\n{done.stdout}"
            )


# --- make demo ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", [True, False], ids=["with-engine", "without-engine"])
def test_make_demo(
    engine: bool, request: pytest.FixtureRequest, trivy_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    host = request.getfixturevalue("docker_engine").host if engine else "unix:///nonexistent/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setenv("TRIVY_BIN", str(trivy_bin))
    assert demo_main(["--out", str(tmp_path / "out")]) == ExitCode.PASS, (
        "a verdict (here: fail) is a successful demo"
    )
    printed = capsys.readouterr().out
    how = "built by the local Docker engine" if engine else "written without an engine"
    assert how in printed
    assert "demo: the gate's verdict is fail (its exit code in CI would be 1). Outputs:" in printed
    doc = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert_exact("app", rows(doc))
    assert doc["warnings"] == []
    for name in ("summary.md", "gate.sarif", "gl-container-scanning-report.json", "junit.xml"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    # The README shows what the demo prints: it stays true.
    shown = sample_after(PROJECT_ROOT / "README.md", "It prints, among the rest:")
    gate = printed.split("\n\n", 1)[1].rsplit("\n\ndemo: the gate's verdict", 1)[0]
    assert lines_match(shown.body.splitlines(), gate.splitlines()), gate


def test_make_demo_without_trivy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVY_BIN", str(tmp_path / "no-trivy"))
    assert demo_main(["--out", str(tmp_path / "out")]) == ExitCode.ERROR
