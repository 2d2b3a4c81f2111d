"""The scan options' warnings in the words of the way the gate runs (gate/scanners/options.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import import_module
from typing import Any

import pytest

from gate.errors import GateError, ScannerError
from gate.image.resolve import ImageTarget
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording
from gate.scanners._process import Completed
from gate.scanners.options import ScannerChoice, ScanOptions, db_age_warnings, unused_options
from tests.support.scan_support import registry_target

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
BUILT = "2026-11-27T00:00:00Z"


@pytest.mark.parametrize(
    ("wording", "said"),
    [
        (COMMAND_LINE_WORDS, "--db-repository is for Trivy, which --scanner grype does not run: not used"),
        (
            ACTION_WORDS,
            "the action's `db-repository` input is for Trivy, which the action's `scanner` input (grype) "
            "does not run: not used",
        ),
        (
            GITLAB_WORDS,
            "the `db-repository` input (CONTAINER_GATE_DB_REPOSITORY) is for Trivy, which the `scanner` "
            "input (CONTAINER_GATE_SCANNER: grype) does not run: not used",
        ),
    ],
    ids=["command-line", "action", "gitlab"],
)
def test_a_db_option_of_a_scanner_not_run_is_named_as_its_user_sets_it(
    wording: RunWording, said: str
) -> None:
    options = ScanOptions(env={}, now=NOW, db_repositories=("ghcr.io/acme/trivy-db",), wording=wording)
    assert unused_options(ScannerChoice.GRYPE, options) == (said,)


@pytest.mark.parametrize(
    ("wording", "said"),
    [
        (COMMAND_LINE_WORDS, "older than --max-db-age 5.0 days; refresh it"),
        (ACTION_WORDS, "older than the action's `max-db-age` input (5.0 days); refresh it"),
        (GITLAB_WORDS, "older than the `max-db-age` input (CONTAINER_GATE_MAX_DB_AGE: 5.0 days); refresh it"),
    ],
    ids=["command-line", "action", "gitlab"],
)
def test_an_old_db_names_the_age_limit_as_its_user_sets_it(wording: RunWording, said: str) -> None:
    options = ScanOptions(env={}, now=NOW, wording=wording)
    (warning,) = db_age_warnings("Trivy", BUILT, options, "refresh it")
    assert warning == f"Trivy's vulnerability DB is 10.0 days old (built {BUILT}), {said}"


def test_an_unknown_db_age_under_the_strict_limit_names_it_as_its_user_sets_it() -> None:
    # Neither the action nor the GitLab templates have an input for --max-db-age-strict.
    for wording, said in (
        (COMMAND_LINE_WORDS, "--max-db-age-strict needs a known DB age"),
        (
            ACTION_WORDS,
            "the command line's --max-db-age-strict (the action has no input for it) needs a known DB age",
        ),
    ):
        options = ScanOptions(env={}, now=NOW, max_db_age_strict=True, wording=wording)
        with pytest.raises(ScannerError) as caught:
            db_age_warnings("Trivy", None, options, "refresh it")
        assert caught.value.hint == said


def _runner_failure(runner: str, stderr: str, options: ScanOptions) -> GateError:
    module = import_module(f"gate.scanners.{runner}_runner")
    failure: Callable[[Completed, ImageTarget, ScanOptions], GateError] = module._failure
    return failure(Completed(1, b"", stderr), registry_target("ghcr.io/acme/app:1"), options)


@pytest.mark.parametrize(
    ("runner", "stderr", "changes", "command_line", "action"),
    [
        (
            "trivy",
            "FATAL --skip-db-update cannot be specified on the first run",
            {"skip_db_update": True},
            "--skip-db-update forbids downloading it",
            "the action's `skip-db-update` input forbids downloading it",
        ),
        (
            "trivy",
            "FATAL init error: failed to download vulnerability DB: denied",
            {},
            "mirror it and pass --db-repository REGISTRY/trivy-db:2, or pre-fetch it "
            "(`trivy image --download-db-only --cache-dir DIR`) and pass --cache-dir DIR --skip-db-update",
            "mirror it and set the action's `db-repository` input to REGISTRY/trivy-db:2, or pre-fetch it "
            "(`trivy image --download-db-only --cache-dir DIR`) and set the action's `cache-dir` input to DIR "
            "and set the action's `skip-db-update` input to true",
        ),
        (
            "trivy",
            "FATAL scan error: context deadline exceeded",
            {"timeout": 300.0},
            "within --scan-timeout 300 s: ",
            "within the action's `scan-timeout` input (300 s): ",
        ),
        (
            "trivy",
            "FATAL twirp error internal: connection refused",
            {"trivy_server": "http://trivy:4954"},
            "check --trivy-server and that `trivy server` runs there",
            "check the action's `trivy-server` input and that `trivy server` runs there",
        ),
        (
            "grype",
            "failed to load vulnerability db: none",
            {"skip_db_update": True},
            "or run without --skip-db-update",
            "or run without the action's `skip-db-update` input",
        ),
        (
            "grype",
            "failed to load vulnerability db: listing unreachable",
            {},
            "mirror it and pass --grype-db-url URL, or pre-fetch it (`grype db update`) into "
            "--cache-dir DIR/grype and pass --skip-db-update",
            "mirror it and pass the command line's --grype-db-url URL (the action has no input for it), "
            "or pre-fetch it (`grype db update`) into the grype directory of the cache, set the action's "
            "`cache-dir` input to DIR and set the action's `skip-db-update` input to true",
        ),
    ],
)
def test_the_scanners_db_errors_name_the_options_as_their_user_sets_them(
    runner: str, stderr: str, changes: dict[str, Any], command_line: str, action: str
) -> None:
    # The action's users set inputs and type no option: its errors named --skip-db-update,
    # --db-repository, --cache-dir, --scan-timeout and --trivy-server.
    for wording, said in ((COMMAND_LINE_WORDS, command_line), (ACTION_WORDS, action)):
        options = ScanOptions(env={}, now=NOW, wording=wording, **changes)
        assert said in _runner_failure(runner, stderr, options).diagnostics()
