"""The Grype runner against a STAND-IN Grype (no Grype binary is installed here).

The stand-in (tests/support/standins.py) checks the command line and environment it receives,
then replays a REAL Grype output from tests/data/corpus/grype, or fails in the way the test asks.
Its parsing is tested on the real outputs in test_grype.py; here what is tested is the runner:
the command line, the environment that carries the DB options, the version and DB checks, and
that every failure is a one-line exit-3 error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ExitCode, GateError, ImageError, ScannerError
from gate.image.source import SourceKind
from gate.platforms import github_event, gitlab
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS
from gate.scanners._process import PLATFORM_TOKENS
from gate.scanners.grype_runner import grype_command, grype_env, run_grype
from gate.scanners.ingest import load_report
from gate.scanners.options import ScanOptions
from tests.support.scan_support import archive_target, engine_target, options, registry_target
from tests.support.standins import (
    CHAINGUARD_RUBY,
    CI_JOB_CREDENTIALS,
    STANDIN_GRYPE_VERSION,
    StandIn,
    grype_standin,
    stopped,
)

REPORT_BUILT = "2023-05-17T01:32:43Z"
"""`descriptor.db.built` of the replayed report."""
SOON_AFTER = dt.datetime(2023, 5, 18, tzinfo=dt.UTC)


def archive(tmp_path: Path) -> Path:
    path = tmp_path / "ruby.tar"
    path.write_bytes(b"")  # the stand-in never opens it
    return path


def standin(tmp_path: Path, mode: str = "ok", **kwargs: Any) -> StandIn:
    return grype_standin(
        tmp_path / "bin", expect_source=f"docker-archive:{archive(tmp_path)}", mode=mode, **kwargs
    )


def grype_options(tmp_path: Path, tool: StandIn, **changes: object) -> ScanOptions:
    return options(tmp_path / "cache", **{"grype_bin": str(tool.path), "now": SOON_AFTER, **changes})


def failure(tmp_path: Path, tool: StandIn, **changes: object) -> GateError:
    with pytest.raises(GateError) as caught:
        run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool, **changes))
    assert caught.value.exit_code == ExitCode.ERROR
    assert "\n" not in caught.value.diagnostics()
    return caught.value


# --- command line and environment ----------------------------------------------------------------


def test_source_argument_per_kind() -> None:
    grype = Path("/bin/grype")
    assert grype_command(grype, archive_target(Path("/i/app.tar"))) == [
        "/bin/grype", "docker-archive:/i/app.tar", "-o", "json", "--config", "container-gate-grype.yaml",
    ]  # fmt: skip
    oci = archive_target(Path("/i/app.oci"), SourceKind.OCI_ARCHIVE)
    assert grype_command(grype, oci)[1] == "oci-archive:/i/app.oci"
    assert grype_command(grype, engine_target("app:1", "unix:///d.sock"))[1] == "docker:app:1"
    assert grype_command(grype, registry_target("127.0.0.1:5000/app:1"))[1] == "registry:127.0.0.1:5000/app:1"
    arm = oci.__class__(**{**oci.__dict__, "platform": "linux/arm64"})
    assert grype_command(grype, arm)[-2:] == ["--platform", "linux/arm64"]


def test_environment_carries_the_db_options(tmp_path: Path) -> None:
    opts = options(tmp_path / "cache", grype_db_url="https://mirror.example/grype/databases/v6/latest.json")
    env = grype_env(engine_target("app:1", "unix:///d.sock"), opts)
    assert env["GRYPE_DB_CACHE_DIR"] == str((tmp_path / "cache" / "grype").resolve())
    assert env["GRYPE_DB_AUTO_UPDATE"] == "false"
    assert env["GRYPE_DB_UPDATE_URL"] == "https://mirror.example/grype/databases/v6/latest.json"
    assert env["GRYPE_CHECK_FOR_APP_UPDATE"] == "false"
    assert env["GRYPE_DB_VALIDATE_AGE"] == "false"
    assert env["DOCKER_HOST"] == "unix:///d.sock"
    assert (
        grype_env(registry_target("127.0.0.1:5000/a:1"), opts)["GRYPE_REGISTRY_INSECURE_USE_HTTP"] == "true"
    )
    updating = grype_env(None, options(None, skip_db_update=False, env={"PATH": "/bin"}))
    assert "GRYPE_DB_AUTO_UPDATE" not in updating
    assert "GRYPE_DB_CACHE_DIR" not in updating


def test_the_ca_of_a_db_mirror_is_kept_and_other_db_settings_are_not() -> None:
    # `--grype-db-url` at a mirror whose certificate a private CA signed: Grype trusts
    # GRYPE_DB_CA_CERT for the listing and the DB download (grype/db/v6/distribution).
    env = {"GRYPE_DB_CA_CERT": "/etc/mirror-ca.pem", "GRYPE_DB_MAX_ALLOWED_BUILT_AGE": "1h"}
    grype = grype_env(None, options(None, grype_db_url="https://mirror.example/latest.json", env=env))
    assert grype["GRYPE_DB_CA_CERT"] == "/etc/mirror-ca.pem"
    assert "GRYPE_DB_MAX_ALLOWED_BUILT_AGE" not in grype


def test_the_registrys_ca_is_given_to_grype_unless_the_user_gives_one() -> None:
    # A GitLab job's CI_SERVER_TLS_CA_FILE: Grype reads `registry.ca-cert` for a `registry:` source
    # alone, and adds it to the system's roots (stereoscope `RegistryOptions.TLSConfig`).
    opts = options(None, registry_ca_file="/builds/ci.crt", env={"PATH": "/bin"})
    registry = registry_target("registry.example/app:1")
    assert grype_env(registry, opts)["GRYPE_REGISTRY_CA_CERT"] == "/builds/ci.crt"
    assert "GRYPE_REGISTRY_CA_CERT" not in grype_env(archive_target(Path("/i/app.tar")), opts)
    assert "GRYPE_REGISTRY_CA_CERT" not in grype_env(None, opts)
    mine = replace(opts, env={"GRYPE_REGISTRY_CA_CERT": "/etc/corporate.pem"})
    assert grype_env(registry, mine)["GRYPE_REGISTRY_CA_CERT"] == "/etc/corporate.pem"
    assert "GRYPE_REGISTRY_CA_CERT" not in grype_env(registry, replace(opts, registry_ca_file=None))


# --- a scan ------------------------------------------------------------------------------------------


def test_scan_replays_the_real_report(tmp_path: Path) -> None:
    cache = str((tmp_path / "cache" / "grype").resolve())
    tool = standin(
        tmp_path,
        expect_env={
            "GRYPE_DB_CACHE_DIR": cache,
            "GRYPE_DB_AUTO_UPDATE": "false",
            "GRYPE_CHECK_FOR_APP_UPDATE": "false",
        },
    )
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool))
    assert report.findings == load_report(CHAINGUARD_RUBY).findings
    (scanner,) = report.scanners
    assert (scanner.name, scanner.version, scanner.db_updated_at, scanner.source) == (
        "grype", STANDIN_GRYPE_VERSION, REPORT_BUILT, None,
    )  # fmt: skip
    assert report.sources == (f"docker-archive:{archive(tmp_path)}",)
    assert report.warnings == ()
    calls = tool.calls()
    given = ["--config", "container-gate-grype.yaml"]
    assert [call["argv"] for call in calls] == [
        ["version", "-o", "json", *given],
        ["db", "status", "-o", "json", *given],
        [f"docker-archive:{archive(tmp_path)}", "-o", "json", *given],
    ]
    assert all(call["cwd"] != os.getcwd() for call in calls), "Grype must not read a .grype.yaml from here"


@pytest.mark.parametrize("where", [".grype.yaml", ".config/grype/config.yaml", "xdg/grype/config.yaml"])
def test_grype_settings_of_the_users_configuration_file_drop_no_finding(tmp_path: Path, where: str) -> None:
    # Grype reads ~/.grype.yaml or $XDG_CONFIG_HOME/grype/config.yaml when no --config is given;
    # `exclude` and `only-fixed` there would drop findings from the report the gate judges.
    home = tmp_path / "home"
    settings = home / where
    settings.parent.mkdir(parents=True)
    settings.write_text("exclude: ['**/*.gemspec']\nonly-fixed: true\nfail-on-severity: low\n")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg")}
    if not where.startswith("xdg/"):
        del env["XDG_CONFIG_HOME"]
    tool = standin(tmp_path)
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool, env=env))
    assert report.findings == load_report(CHAINGUARD_RUBY).findings
    assert report.warnings == ()


def test_grype_settings_in_the_environment_are_removed(tmp_path: Path) -> None:
    tool = standin(
        tmp_path,
        expect_env={"GRYPE_REGISTRY_AUTH_USERNAME": "ci"},
        expect_unset=("GRYPE_ONLY_FIXED", "GRYPE_FAIL_ON_SEVERITY"),
    )
    env = {
        **os.environ,
        "GRYPE_ONLY_FIXED": "true",
        "GRYPE_FAIL_ON_SEVERITY": "low",
        "GRYPE_REGISTRY_AUTH_USERNAME": "ci",
    }
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool, env=env))
    assert report.findings == load_report(CHAINGUARD_RUBY).findings


def test_the_gates_own_tokens_and_the_jobs_are_not_handed_to_grype(tmp_path: Path) -> None:
    # The platforms' tokens write comments and notes; a scanner needs none of them.
    assert set(PLATFORM_TOKENS) == {*github_event.TOKEN_VARIABLES, gitlab.TOKEN_VARIABLE}
    tool = standin(
        tmp_path,
        expect_env={"GRYPE_REGISTRY_TOKEN": "r"},
        expect_unset=(*PLATFORM_TOKENS, *CI_JOB_CREDENTIALS),
    )
    env = {
        **os.environ,
        "GRYPE_REGISTRY_TOKEN": "r",
        **dict.fromkeys((*PLATFORM_TOKENS, *CI_JOB_CREDENTIALS), "not-for-scanners"),
    }
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool, env=env))
    assert report.findings == load_report(CHAINGUARD_RUBY).findings
    assert len(tool.calls()) == 3


def test_old_db_is_a_warning_or_an_error(tmp_path: Path) -> None:
    tool = standin(tmp_path)
    later = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool, now=later))
    (warning,) = report.warnings
    assert warning.startswith(f"Grype's vulnerability DB is 14.9 days old (built {REPORT_BUILT})")
    error = failure(tmp_path, tool, now=later, max_db_age_strict=True)
    assert error.message.startswith("Grype's vulnerability DB is 14.9 days old")
    assert error.hint == "refresh it: `grype db update` (GRYPE_DB_CACHE_DIR set to the cache)"


def test_matches_suppressed_by_grype_configuration_are_a_warning(tmp_path: Path) -> None:
    # The real report with one match moved to `ignoredMatches`, which is how Grype writes a match
    # that its own ignore rules suppressed.
    doc = json.loads(CHAINGUARD_RUBY.read_text())
    doc["ignoredMatches"] = [{**doc["matches"].pop(), "appliedIgnoreRules": [{"vulnerability": "GHSA-x"}]}]
    edited = tmp_path / "with-ignored.json"
    edited.write_text(json.dumps(doc))
    report = run_grype(
        archive_target(archive(tmp_path)), grype_options(tmp_path, standin(tmp_path, report=edited))
    )
    assert any("suppressed 1 match(es)" in warning for warning in report.warnings)


def test_grype_is_run_so_that_its_matches_of_kernel_headers_are_judged(tmp_path: Path) -> None:
    # Grype's `match-upstream-kernel-headers: false` (its default) moves its matches of
    # linux-libc-dev through the kernel into ignoredMatches, where the policy never sees them;
    # Trivy reports them. The real report with a match of that kind added.
    doc = json.loads(CHAINGUARD_RUBY.read_text())
    headers = json.loads(json.dumps(doc["matches"][0]))
    headers["artifact"].update(
        name="linux-libc-dev", version="6.1.0-1", type="deb", upstreams=[{"name": "linux"}]
    )
    doc["matches"].append(headers)
    edited = tmp_path / "with-kernel-headers.json"
    edited.write_text(json.dumps(doc))
    tool = standin(tmp_path, report=edited)
    report = run_grype(archive_target(archive(tmp_path)), grype_options(tmp_path, tool))
    assert "linux-libc-dev" in {finding.package.name for finding in report.findings}
    assert report.warnings == ()


# --- failures -------------------------------------------------------------------------------------------


def test_binary_missing(tmp_path: Path) -> None:
    error = failure(tmp_path, StandIn(tmp_path / "grype", tmp_path / "log"))
    assert error.message == f"grype not found at {tmp_path / 'grype'} (given by --grype-bin)"
    assert error.hint is not None
    assert "install Grype 0.87.0 or later" in error.hint


def test_binary_not_installed_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without --grype-bin or GRYPE_BIN: the scanners' PATH, then the directory of the Python the
    # gate runs from (where `pip install` puts a scanner in a virtualenv that is not activated).
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    error = failure(
        tmp_path, StandIn(tmp_path / "grype", tmp_path / "log"), grype_bin=None, env={"PATH": str(tmp_path)}
    )
    assert (
        error.message
        == f"grype is not installed: no `grype` on PATH or beside this Python ({tmp_path}/venv/bin)"
    )
    assert error.hint is not None
    assert "install Grype 0.87.0 or later" in error.hint


def test_too_old_version(tmp_path: Path) -> None:
    tool = standin(tmp_path, version="0.61.1")
    error = failure(tmp_path, tool)
    assert (
        error.message
        == f"Grype 0.61.1 at {tool.path} is not supported: container-gate needs Grype 0.87.0 or later"
    )
    assert [call["argv"][0] for call in tool.calls()] == ["version"]


def test_missing_db_with_skip_db_update(tmp_path: Path) -> None:
    tool = standin(tmp_path, mode="missing-db")
    error = failure(tmp_path, tool)
    cache = (tmp_path / "cache" / "grype").resolve()
    assert error.message == (
        f"Grype has no usable vulnerability DB in {cache}, and --skip-db-update forbids downloading it"
    )
    assert f"GRYPE_DB_CACHE_DIR={cache} grype db update" in (error.hint or "")
    assert len(tool.calls()) == 2, "no scan without a DB"


def test_db_that_cannot_be_loaded_or_downloaded(tmp_path: Path) -> None:
    tool = standin(tmp_path, mode="missing-db", expect_unset=("GRYPE_DB_AUTO_UPDATE",))
    error = failure(tmp_path, tool, skip_db_update=False)
    assert error.message.startswith("Grype could not load or download its vulnerability DB: failed to load")
    assert "--grype-db-url" in (error.hint or "")


@pytest.mark.parametrize(
    ("mode", "kind", "expected"),
    [
        ("exit1", ImageError, "Grype could not find or read the image docker-archive:"),
        ("garbage", ScannerError, "Grype exited 0 but its output is not a usable report: Grype's report on "),
        (
            "truncated",
            ScannerError,
            "Grype exited 0 but its output is not a usable report: Grype's report on ",
        ),
        ("crash", ScannerError, "Grype failed (killed by SIGSEGV): no error output"),
        (
            "logged-error",
            ScannerError,
            "Grype failed (exit 1): could not determine source: an image reference is not a file",
        ),
    ],
)
def test_broken_runs(mode: str, kind: type[GateError], expected: str, tmp_path: Path) -> None:
    error = failure(tmp_path, standin(tmp_path, mode=mode))
    assert isinstance(error, kind)
    assert error.message.startswith(expected)
    if mode == "truncated":
        assert "looks truncated" in error.message
    if mode == "exit1":
        assert error.message.endswith("failed to catalog: could not fetch image 'x': unable to load image")
        assert error.detail is not None
        assert "1 error occurred:" in error.detail


def test_an_image_the_registry_refuses_says_how_the_run_gives_credentials(tmp_path: Path) -> None:
    # Grype's own refusal (`UNAUTHORIZED: authentication required`): the hint is the one the gate
    # gives for its own reads, in the words of the run (here the GitLab job's Docker config).
    reference = "127.0.0.1:5000/private/app:1"
    tool = grype_standin(tmp_path / "bin", expect_source=f"registry:{reference}", mode="unauthorized")
    for wording, said in (
        (COMMAND_LINE_WORDS, "docker login 127.0.0.1:5000"),
        (
            GITLAB_WORDS,
            "the job logs in to its project's registry only: for 127.0.0.1:5000, point DOCKER_CONFIG at "
            "a Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
        ),
    ):
        with pytest.raises(ImageError) as caught:
            run_grype(registry_target(reference), grype_options(tmp_path, tool, wording=wording))
        assert caught.value.message.startswith(f"Grype could not find or read the image {reference}: ")
        assert caught.value.hint == f"the repository does not exist or needs credentials: {said}"
    # An archive is read from no registry: the hint stays the general one.
    with pytest.raises(ImageError) as caught:
        run_grype(
            archive_target(archive(tmp_path)),
            grype_options(tmp_path, standin(tmp_path, mode="unauthorized"), wording=GITLAB_WORDS),
        )
    assert caught.value.hint == (
        "check the reference (and that it was built, saved or pushed) and the registry's credentials"
    )


def test_fail_on_severity_is_an_error_that_says_the_gate_sets_none(tmp_path: Path) -> None:
    # A `fail-on-severity` makes a scan that found something exit 2. The gate gives Grype its own
    # configuration, which sets none: the run is an error, and the error says where else it can come from.
    error = failure(tmp_path, standin(tmp_path, mode="fail-on"))
    assert isinstance(error, ScannerError)
    assert (
        error.message
        == "Grype failed (exit 2): discovered vulnerabilities at or above the severity threshold"
    )
    assert error.hint is not None
    assert "the gate sets none: check that --grype-bin or GRYPE_BIN is Grype itself" in error.hint
    assert "the gate's policy decides what blocks" in error.hint


def test_hang_is_stopped_at_the_scan_timeout_with_its_children(tmp_path: Path) -> None:
    tool = standin(tmp_path, mode="hang")
    error = failure(tmp_path, tool, timeout=1.0)
    assert error.message == "Grype did not finish within 1 s and was stopped"
    assert error.hint == "raise --scan-timeout"
    pids = tool.pids()
    assert len(pids) == 2, "the stand-in and the child it started"
    assert stopped(pids), "the scanner's process group is killed, not only the scanner"
    # The action's users set its input.
    assert (
        failure(tmp_path, tool, timeout=0.5, wording=ACTION_WORDS).hint
        == "raise the action's `scan-timeout` input"
    )
