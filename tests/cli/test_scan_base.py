"""`scan --check-base` end to end: the test bed's base-refresh scenario, the real registry and Trivy.

The check must report the exact day gap and the removed findings of testbed/expected_base_refresh.yaml
in the JSON report, the terminal and the Markdown summary; the controls must not be stale; a check
that cannot run is a warning and `checked: false`, and never changes the verdict by itself.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ExitCode
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS
from testbed.base_refresh import BaseRefreshScenario, RefreshCase
from testbed.derive_refresh import load_refresh_expected
from testbed.expected import BASE_LAYERS
from testbed.images import ArchiveImages
from tests.support.doc_samples import json_mismatches, lines_match, sample_after, shown_json
from tests.support.fixtures import unavailable
from tests.support.markdown_html import to_html
from tests.support.registry_tools import (
    Pusher,
    base_behind_auth,
    bcrypt_hash,
    free_port,
    oci_image,
    read_docker_archive,
    relabelled,
    serve_registry,
)
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.tls import REGISTRY_NAME, PrivateCa, registry_at_default_port

EXPECTED = load_refresh_expected()


def base_line(stdout: str) -> str:
    """The summary's base image line, in its head below the image's (which goes on to more lines
    when it is longer than the width)."""
    return next(line for line in stdout.splitlines() if line.startswith(("base `", "stale base `")))


def test_a_stale_base(offline_scan: Any, base_refresh: BaseRefreshScenario) -> None:
    case = base_refresh.stale
    run = offline_scan(f"docker://{case.app}", "--check-base")
    assert run.code == ExitCode.FAIL, run.stderr
    base = run.json["base_image"]
    # Which findings a rebuild removes, by position: those of the base-refresh action.
    removed = base.pop("removed_findings")
    assert sorted(run.json["findings"][i]["vulnerability_id"] for i in removed) == sorted(
        vid for vid, _ in EXPECTED["stale"].removed
    )
    assert removed == next(a for a in run.json["actions"] if a["kind"] == "base_refresh")["findings"]
    assert base == {
        "name": case.base,
        "digest": case.used_manifest,
        "created": "2024-01-10T00:00:00Z",
        "current_digest": case.current_manifest,
        "current_created": "2024-02-26T13:00:00Z",
        "behind_days": 47,
        "stale": True,
        "max_age_days": 0,
        "rebuild_removes": {
            "findings": 29,
            # The removed findings are fixed in the newer base, so the default policy (fixable
            # HIGH and CRITICAL block) blocks exactly its CRITICAL and HIGH ones.
            "blocking": 13,
            "by_severity": {"CRITICAL": 1, "HIGH": 12, "MEDIUM": 15, "LOW": 1},
        },
        "checked": True,
        "reason": None,
        "tag_moved": True,
    }
    assert base["rebuild_removes"]["by_severity"] == {
        k: v for k, v in EXPECTED["stale"].removed_by_severity.items() if v
    }
    line = (
        f"stale base `{case.base}` is 47 days behind its tag (built 2024-01-10, tag now 2024-02-26); "
        "rebuilding on it removes 29 findings (13 blocking; 1 CRITICAL, 12 HIGH, 15 MEDIUM, 1 LOW)"
    )
    assert base_line(run.stdout) == line
    # docs/base-image.md and docs/report-format.md show this run, the test bed's names given as a
    # registry's.
    names = {f"docker://{case.app}": "ghcr.io/acme/app:1.4", case.base: "ghcr.io/acme/base:12"}
    printed = run.stdout
    for name, shown_as in names.items():
        printed = printed.replace(name, shown_as)
    shown = sample_after(PROJECT_ROOT / "docs" / "base-image.md", "# Is the base image stale?")
    assert lines_match(shown.body.splitlines(), printed.splitlines()), printed
    shown = sample_after(PROJECT_ROOT / "docs" / "report-format.md", "### The base image check")
    shown_base = {**base, "name": "ghcr.io/acme/base:12", "removed_findings": removed}
    assert json_mismatches(shown_json(shown), {"base_image": shown_base}) == []
    # Near the top of the Markdown summary (the comment and the GitLab note), rendered as GitHub does.
    paragraphs = run.markdown.split("\n\n")
    assert "47 days behind its tag" in paragraphs[2]
    assert (
        f"<code>{case.base}</code> is 47 days behind its tag (built 2024-01-10, tag now 2024-02-26)"
        in to_html(paragraphs[2])
    )
    assert run.json["warnings"] == []


def test_a_base_image_tag_that_moved_on_is_what_the_check_is_for(
    offline_scan: Any, base_refresh: BaseRefreshScenario
) -> None:
    case = base_refresh.stale
    given = ("--base-image", f"docker://{case.base}")
    # Without the check, the tag as it is now is not what the image was built FROM: a usage error.
    without = offline_scan(f"docker://{case.app}", *given)
    assert without.code == ExitCode.USAGE
    assert "was not built FROM" in without.stderr
    # With it, the labels' digest names the base it was built on, and the check says how stale.
    run = offline_scan(f"docker://{case.app}", *given, "--check-base")
    assert run.code == ExitCode.FAIL, run.stderr
    base = run.json["base_image"]
    assert (base["name"], base["digest"], base["behind_days"]) == (case.base, case.used_manifest, 47)
    assert base["rebuild_removes"]["findings"] == 29
    assert run.json["image"]["base_layer_count"] == BASE_LAYERS
    assert {f["layer"]["origin"] for f in run.json["findings"]} == {"base", "own"}


@pytest.mark.parametrize("name", ["unchanged", "multi_platform"])
def test_the_controls_are_current(offline_scan: Any, base_refresh: BaseRefreshScenario, name: str) -> None:
    case: RefreshCase = getattr(base_refresh, name)
    run = offline_scan(f"docker://{case.app}", "--check-base")
    base = run.json["base_image"]
    # The platform manifest, never the index: for the multi-platform tag the index changed.
    assert (base["digest"], base["current_digest"]) == (case.used_manifest, case.used_manifest)
    assert (base["behind_days"], base["stale"], base["checked"]) == (0, False, True)
    assert base["rebuild_removes"] == {"findings": 0, "blocking": 0, "by_severity": {}}
    assert base_line(run.stdout) == (
        f"base `{case.base}` is current: its tag still points to the image this one was built on (built 2024-01-10)"
    )
    assert run.json["warnings"] == []


def test_registry_down_is_a_warning_and_changes_no_verdict(
    offline_scan: Any, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    port = free_port()
    base = f"127.0.0.1:{port}/container-gate-testbed/base:12"
    app = relabelled(
        engineless_archives.app, tmp_path / "app.tar", {"org.opencontainers.image.base.name": base}
    )
    given = ["--base-image", f"docker-archive:{engineless_archives.base}"]
    reason = (
        f"cannot reach registry 127.0.0.1:{port} (connection refused) "
        "(check the name, the network, and that plain HTTP is only expected on localhost)"
    )
    for policy in ([], ["--advisory"]):
        without = offline_scan(f"docker-archive:{app}", *given, *policy)
        run = offline_scan(f"docker-archive:{app}", *given, *policy, "--check-base")
        # The same verdict as without the check: a failing gate still fails, a passing one passes.
        assert (run.code, run.json["verdict"]) == (without.code, without.json["verdict"])
        assert run.json["counts"] == without.json["counts"]
        assert run.json["base_image"] == {
            "name": base,
            "digest": None,
            "created": None,
            "current_digest": None,
            "current_created": None,
            "behind_days": None,
            "stale": False,
            "max_age_days": 0,
            "rebuild_removes": None,
            "checked": False,
            "reason": reason,
            "tag_moved": None,
            "removed_findings": None,
        }
        assert run.json["warnings"] == [f"base image check: {reason}"]
        assert base_line(run.stdout) == f"base `{base}` not checked: {reason}"
        assert f"warning:  base image check: {reason}" in run.stdout
    assert (without.code, run.code) == (ExitCode.PASS, ExitCode.PASS)  # the advisory run


@pytest.mark.parametrize(
    ("variables", "needed"),
    [
        ({}, "docker login {registry}"),
        (
            {"CONTAINER_GATE_ACTION": "true"},
            "set the action's `registry` input to {registry}, with `registry-username` and `registry-password`",
        ),
        (
            {"CONTAINER_GATE_POLICY": ""},
            "the job logs in to its project's registry only: for {registry}, point DOCKER_CONFIG at a "
            "Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
        ),
    ],
)
def test_a_registry_that_refuses_the_image_or_its_base_is_answered_in_the_runs_words(
    offline_scan: Any,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    needed: str,
) -> None:
    # The action's users cannot run `docker login` where the gate runs: they set its inputs; the
    # GitLab job's users give a Docker config. The image and the base image check say so alike.
    for name in ("CONTAINER_GATE_ACTION", "CONTAINER_GATE_POLICY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with base_behind_auth(engineless_archives.base) as registries:
        registry = registries.basic
        hint = f"the repository does not exist or needs credentials: {needed.format(registry=registry)}"
        refused = f"registry {registry} refused anonymous access to private/base (HTTP 401, UNAUTHORIZED)"
        run = offline_scan(f"docker://{registry}/private/base:12")
        assert run.code == ExitCode.ERROR
        assert f"{refused} ({hint})" in run.json["error"]["message"]
        base = f"{registry}/private/base:12"
        label = {"org.opencontainers.image.base.name": base}
        app = relabelled(engineless_archives.app, tmp_path / "app.tar", label)
        given = ["--base-image", f"docker-archive:{engineless_archives.base}"]
        run = offline_scan(f"docker-archive:{app}", *given, "--check-base=best-effort")
        assert run.json["base_image"]["reason"] == f"unauthorized: {refused} ({hint})"


@pytest.mark.parametrize(
    ("variables", "needed"),
    [
        ({}, "docker login {registry}"),
        (
            {"CONTAINER_GATE_ACTION": "true"},
            "set the action's `registry` input to {registry}, with `registry-username` and `registry-password`",
        ),
        (
            {"CONTAINER_GATE_POLICY": ""},
            "the job logs in to its project's registry only: for {registry}, point DOCKER_CONFIG at a "
            "Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
        ),
    ],
)
def test_the_base_check_names_a_login_under_the_base_registrys_other_spelling(
    offline_scan: Any,
    engineless_archives: ArchiveImages,
    private_ca: PrivateCa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    needed: str,
) -> None:
    # `docker login REGISTRY:443` stores a login Docker and the scanners never use for
    # REGISTRY/REPO. An image read said so; the base image check read the same config and said
    # only that the registry refused anonymous access.
    secure_port = registry_at_default_port(monkeypatch)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(private_ca.ca_file))
    for name in ("CONTAINER_GATE_ACTION", "CONTAINER_GATE_POLICY", "GITLAB_CI", "DOCKER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "htpasswd").write_text(f"gate-user:{bcrypt_hash('secret-pw')}\n")
    basic = f"auth: {{htpasswd: {{realm: gate-test, path: {tmp_path / 'htpasswd'}}}}}\n"
    storage = tmp_path / "storage"
    (tmp_path / ".docker").mkdir()
    config = tmp_path / ".docker" / "config.json"
    secret = base64.b64encode(b"gate-user:secret-pw").decode()
    config.write_text(json.dumps({"auths": {f"{REGISTRY_NAME}:443": {"auth": secret}}}))
    try:
        with (
            serve_registry(tmp_path, storage) as plain,
            serve_registry(tmp_path, storage, basic, tls=private_ca.server_files) as secure,
        ):
            secure_port.append(int(secure.rpartition(":")[2]))
            image_config, layers = read_docker_archive(engineless_archives.base)
            Pusher(plain).image("private/base", "12", oci_image(image_config, layers))
            base = f"{REGISTRY_NAME}/private/base:12"
            app = relabelled(
                engineless_archives.app, tmp_path / "app.tar", {"org.opencontainers.image.base.name": base}
            )
            argv = [f"docker-archive:{app}", "--base-image", f"docker-archive:{engineless_archives.base}"]
            run = offline_scan(*argv, "--check-base=best-effort")
    except (RuntimeError, FileNotFoundError) as exc:
        unavailable(f"a registry over HTTPS: {exc}")
    assert run.json["base_image"]["reason"].startswith(
        f"unauthorized: registry {REGISTRY_NAME} refused anonymous access to private/base"
    )
    said = (
        f"{config}: its login for {REGISTRY_NAME}:443 is not used for {REGISTRY_NAME}: Docker and the "
        "scanners take a registry written with and without its default port :443 as two, and the "
        f"image reference writes {REGISTRY_NAME}: {needed.format(registry=REGISTRY_NAME)}"
    )
    assert run.json["warnings"].count(said) == 1, run.json["warnings"]


def test_in_gitlab_the_base_check_trusts_the_ca_of_the_instance(
    offline_scan: Any,
    engineless_archives: ArchiveImages,
    private_ca: PrivateCa,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A self-managed GitLab's registry (or Dependency Proxy) has a certificate its own CA signed,
    # which the runner gives the job in CI_SERVER_TLS_CA_FILE: the gate's reads of the base image
    # failed on it (a TLS error), as its API calls did before they trusted it.
    lookup = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return lookup("127.0.0.1" if host == REGISTRY_NAME else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("NO_PROXY", "*")
    for name in ("CONTAINER_GATE_ACTION", "CONTAINER_GATE_POLICY", "GITLAB_CI", "CI_SERVER_TLS_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    storage = tmp_path / "storage"
    try:
        with (
            serve_registry(tmp_path, storage) as plain,
            serve_registry(tmp_path, storage, tls=private_ca.server_files) as secure,
        ):
            config, layers = read_docker_archive(engineless_archives.base)
            Pusher(plain).image("group/base", "12", oci_image(config, layers))
            base = f"{REGISTRY_NAME}:{secure.rpartition(':')[2]}/group/base:12"
            app = relabelled(
                engineless_archives.app, tmp_path / "app.tar", {"org.opencontainers.image.base.name": base}
            )
            argv = [f"docker-archive:{app}", "--base-image", f"docker-archive:{engineless_archives.base}"]
            argv.append("--check-base=best-effort")

            def checked() -> dict[str, Any]:
                run = offline_scan(*argv)
                result: dict[str, Any] = run.json["base_image"]
                return result

            monkeypatch.setenv("GITLAB_CI", "true")
            monkeypatch.setenv("CI_SERVER_TLS_CA_FILE", str(private_ca.ca_file))
            trusted = checked()
            assert (trusted["checked"], trusted["reason"]) == (True, None)
            assert (trusted["name"], trusted["stale"]) == (base, False)
            # Only a GitLab job's variable, and only its CA: the usual roots stay trusted.
            monkeypatch.delenv("GITLAB_CI")
            refused = (
                f"cannot reach registry {base.partition('/')[0]} (TLS error: its certificate is not trusted)"
            )
            assert checked()["reason"].startswith(refused)
            # What to do about it, in the words of each way of running: on the command line the
            # hint named the GitLab runner's CI_SERVER_TLS_CA_FILE, which means nothing there.
            hints = {
                "command line": COMMAND_LINE_WORDS.untrusted_certificate,
                "GitLab job": GITLAB_WORDS.untrusted_certificate,
                "action": ACTION_WORDS.untrusted_certificate,
            }
            assert checked()["reason"] == f"{refused} ({hints['command line']})"
            assert "CI_SERVER_TLS_CA_FILE" not in hints["command line"]
            monkeypatch.setenv("GITLAB_CI", "true")
            monkeypatch.delenv("CI_SERVER_TLS_CA_FILE")
            assert checked()["reason"] == f"{refused} ({hints['GitLab job']})"
            monkeypatch.delenv("GITLAB_CI")
            monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
            assert checked()["reason"] == f"{refused} ({hints['action']})"
            monkeypatch.delenv("CONTAINER_GATE_ACTION")
            # The command line's hint is what the gate honours.
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(private_ca.ca_file))
            assert checked()["reason"] is None
    except (RuntimeError, FileNotFoundError) as exc:
        unavailable(f"a registry over HTTPS: {exc}")


def test_check_base_is_a_flag_that_never_takes_the_image(capsys: pytest.CaptureFixture[str]) -> None:
    from gate.cli.parser import build_parser
    from gate.scanners.run import BaseCheckMode

    parser = build_parser()
    assert parser.parse_args(["scan", "--check-base", "app:1"]).check_base is BaseCheckMode.REQUIRED
    assert (
        parser.parse_args(["scan", "app:1", "--check-base=best-effort"]).check_base
        is BaseCheckMode.BEST_EFFORT
    )
    assert parser.parse_args(["scan", "app:1"]).check_base is BaseCheckMode.OFF
    for wrong in (["--check-base=maybe"], ["--check-base", "--check-base=best-effort"]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(["scan", "app:1", *wrong])
        assert exited.value.code == ExitCode.USAGE
    assert "not allowed with argument --check-base" in capsys.readouterr().err


# --- with the remediation plan and the policy's base_image keys ----------------------------------


def test_the_base_refresh_action_takes_the_exact_count(
    offline_scan: Any, base_refresh: BaseRefreshScenario
) -> None:
    case = base_refresh.stale
    estimated = offline_scan(f"docker://{case.app}")
    checked = offline_scan(f"docker://{case.app}", "--check-base")
    before = next(a for a in estimated.json["actions"] if a["kind"] == "base_refresh")
    after = next(a for a in checked.json["actions"] if a["kind"] == "base_refresh")
    assert (before["estimated"], after["estimated"]) == (True, False)
    findings = checked.json["findings"]
    # An action names its findings by their position in the report's findings.
    assert sorted(
        (findings[i]["vulnerability_id"], findings[i]["package"]) for i in after["findings"]
    ) == sorted(EXPECTED["stale"].removed)
    assert after["blocking"] == checked.json["base_image"]["rebuild_removes"]["blocking"] == 13
    for index, finding in enumerate(findings):
        assert (finding["action"] == after["id"]) is (index in after["findings"])


def policy_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def test_on_stale_fail_fails_a_stale_base(
    offline_scan: Any, base_refresh: BaseRefreshScenario, tmp_path: Path
) -> None:
    case = base_refresh.stale
    # Nothing but the base can fail this gate: only CRITICAL findings block, within a budget.
    policy = policy_file(
        tmp_path,
        "version: 1\nfail_on: {severity: CRITICAL, budgets: {CRITICAL: 1000}}\n"
        "base_image: {max_age_days: 30, on_stale: fail}\n",
    )
    run = offline_scan(f"docker://{case.app}", "--check-base", "--policy", policy)
    assert run.json["counts"]["blocking"] == 0, [
        f["vulnerability_id"] for f in run.json["findings"] if f["disposition"] == "blocking"
    ]
    assert run.code == ExitCode.FAIL
    assert run.json["policy_failures"] == [
        f"the base image {case.base} is 47 days behind its tag, more than base_image.max_age_days (30), "
        "and base_image.on_stale is fail: rebuild the image on the current tag"
    ]
    # Within the allowed age it is no failure.
    relaxed = policy_file(
        tmp_path, (Path(policy).read_text()).replace("max_age_days: 30", "max_age_days: 60")
    )
    assert offline_scan(f"docker://{case.app}", "--check-base", "--policy", relaxed).code == ExitCode.PASS


def test_on_stale_fail_makes_an_unchecked_base_an_error_unless_best_effort(
    offline_scan: Any, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    port = free_port()
    base = f"127.0.0.1:{port}/container-gate-testbed/base:12"
    app = relabelled(
        engineless_archives.app, tmp_path / "app.tar", {"org.opencontainers.image.base.name": base}
    )
    given = [f"docker-archive:{app}", "--base-image", f"docker-archive:{engineless_archives.base}"]
    policy = policy_file(tmp_path, "version: 1\nbase_image: {on_stale: fail}\n")
    reason = (
        f"cannot reach registry 127.0.0.1:{port} (connection refused) "
        "(check the name, the network, and that plain HTTP is only expected on localhost)"
    )
    run = offline_scan(*given, "--policy", policy, "--check-base")
    assert run.code == ExitCode.ERROR
    assert run.stderr.strip().splitlines() == [
        "container-gate: error: the base image check could not run, and the policy fails a stale base "
        f"(base_image.on_stale: fail): {reason} (fix the cause, or pass --check-base=best-effort to make it a warning)"
    ]
    # docs/base-image.md shows it for a registry that timed out.
    shown = sample_after(PROJECT_ROOT / "docs" / "base-image.md", "## When the check cannot run")
    timed_out = f"cannot reach registry ghcr.io (timed out) {reason.split(') ', 1)[1]}"
    assert shown.body.splitlines() == [
        line.replace(reason, timed_out) for line in run.stderr.strip().splitlines()
    ]
    assert run.json["verdict"] == "error"
    # Best effort: a warning, and the verdict the findings give.
    best = offline_scan(*given, "--policy", policy, "--check-base=best-effort")
    without = offline_scan(*given, "--policy", policy)
    assert (
        (best.code, best.json["verdict"])
        == (without.code, without.json["verdict"])
        == (ExitCode.FAIL, "fail")
    )
    assert best.json["warnings"] == [f"base image check: {reason}"]
    assert best.json["base_image"]["checked"] is False


def test_an_image_built_from_scratch_has_no_stale_base_to_fail(
    offline_scan: Any, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    # The test bed's base image is built FROM scratch, as its Dockerfile says.
    dockerfile = PROJECT_ROOT / "testbed" / "images" / "base" / "Dockerfile"
    image = f"docker-archive:{engineless_archives.base}"
    policy = policy_file(tmp_path, "version: 1\nbase_image: {on_stale: fail}\n")
    without = offline_scan(image, "--dockerfile", str(dockerfile), "--policy", policy)
    run = offline_scan(image, "--dockerfile", str(dockerfile), "--policy", policy, "--check-base")
    # Nothing to be stale, so nothing the policy cannot decide: the verdict is the findings'.
    assert (
        (run.code, run.json["verdict"]) == (without.code, without.json["verdict"]) == (ExitCode.FAIL, "fail")
    )
    reason = f"{image} is built FROM scratch: it has no base image to check"
    assert (run.json["base_image"]["checked"], run.json["base_image"]["reason"]) == (False, reason)
    assert run.json["warnings"] == [f"base image check: {reason}"]
