"""The words of the way the gate runs name only inputs that exist, and every input that sets an option."""

from __future__ import annotations

from typing import Any

import yaml

from entrypoint import INPUTS
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS
from tests.support.repo_paths import PROJECT_ROOT

COMPONENT = PROJECT_ROOT / "templates" / "container-gate.yml"
PLAIN = PROJECT_ROOT / "templates" / "container-gate.gitlab-ci.yml"


def test_on_the_command_line_an_option_is_named_as_typed() -> None:
    assert COMMAND_LINE_WORDS.option("db-repository") == "--db-repository"
    assert COMMAND_LINE_WORDS.option("scanner", "grype") == "--scanner grype"
    assert COMMAND_LINE_WORDS.base_image_sources() == (
        "`scan` learns it from --base-image, the image's base-name label or --dockerfile"
    )


def test_the_action_names_its_inputs_and_no_input_it_lacks() -> None:
    assert ACTION_WORDS.option("db-repository") == "the action's `db-repository` input"
    assert ACTION_WORDS.option("max-db-age", "5.0 days") == "the action's `max-db-age` input (5.0 days)"
    assert ACTION_WORDS.option("build-arg") == "the action's `build-args` input"
    assert ACTION_WORDS.option("grype-db-url") == (
        "the command line's --grype-db-url (the action has no input for it)"
    )


def test_the_gitlab_templates_name_the_input_and_its_variable() -> None:
    assert GITLAB_WORDS.option("db-repository") == "the `db-repository` input (CONTAINER_GATE_DB_REPOSITORY)"
    assert GITLAB_WORDS.option("scanner", "grype") == "the `scanner` input (CONTAINER_GATE_SCANNER: grype)"
    assert GITLAB_WORDS.option("baseline") == "the command line's --baseline (the job has no input for it)"
    # The job's inputs for a multi-platform image and a slow scan (they had none).
    assert GITLAB_WORDS.option("platform") == "the `platform` input (CONTAINER_GATE_PLATFORM)"
    assert GITLAB_WORDS.option("scan-timeout", "600 s") == (
        "the `scan-timeout` input (CONTAINER_GATE_SCAN_TIMEOUT: 600 s)"
    )


def test_the_actions_wording_knows_every_input_that_sets_an_option() -> None:
    """An input added to action.yml, or one renamed, is worded as the action's input."""
    action = {(item.flag.removeprefix("--"), item.name) for item in INPUTS if item.flag is not None}
    assert set(ACTION_WORDS.inputs or ()) == action


def _component_inputs() -> dict[str, Any]:
    header = next(yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8")))
    inputs: dict[str, Any] = header["spec"]["inputs"]
    return inputs


def test_the_gitlab_wording_names_inputs_and_variables_the_templates_have() -> None:
    """Each input named exists in the component, its variable in the plain template, and the
    variable reaches the option it is named for (build-args: read by the gate itself)."""
    plain = PLAIN.read_text(encoding="utf-8")
    job = yaml.safe_load(plain)[".container-gate"]
    script = "\n".join(job["script"])
    for option, given in GITLAB_WORDS.inputs or ():
        variable = GITLAB_WORDS.option(option).split("(")[1].rstrip(")")
        assert given in _component_inputs(), given
        assert variable in job["variables"], variable
        if option != "build-arg":
            assert any(f"--{option}" in line and f"${variable}" in line for line in script.splitlines()), (
                option
            )
