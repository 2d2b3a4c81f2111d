"""The scan options' warnings in the words of the way the gate runs (gate/scanners/options.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS, RunWording
from gate.scanners.options import ScannerChoice, ScanOptions, db_age_warnings, unused_options

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
