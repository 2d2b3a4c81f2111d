"""The GitHub Action's entry point: action inputs -> a `container-gate` command line.

GitHub hands a container action its inputs only as environment variables: `INPUT_<NAME>`, the
input's id upper-cased with dashes kept (`INPUT_SKIP-DB-UPDATE`, `INPUT_GITHUB-TOKEN`). action.yml
passes nothing through `args`, so no input is ever interpolated into a command or a shell. This
module reads those variables, checks them, and runs `gate.cli.main.main` with the argv they mean.

The token goes to the gate through the `GITHUB_TOKEN` variable only: never on the command line
(visible in `ps` and in --verbose traces), never printed. The registry password goes only into a
Docker config of this run alone (`DOCKER_CONFIG`), removed when the run ends, beside the logins of
the Docker config the workflow gave, which is only read.

Outside GitHub (`GITHUB_ACTIONS` unset), the same variables work for a local dry-run of the action
(`docker run -e INPUT_IMAGE=... IMAGE`); nothing is published then (`--ci none`).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# The exit codes, the reading of build arguments and the pull request's number are the gate's own;
# gate.errors, gate.build_args and gate.pull_request need only the standard library, so a bad input
# still needs no more of the gate than that.
from gate.build_args import split_build_args as split_build_arg_lines
from gate.errors import ExitCode
from gate.pull_request import VARIABLE as PULL_REQUEST_VARIABLE
from gate.pull_request import not_a_number, parse_pull_request


class InputError(Exception):
    """An action input is missing, malformed, or does not fit the others; the message names it."""


@dataclass(frozen=True)
class Input:
    """One input of action.yml and what it becomes on the command line."""

    name: str
    """The input id in action.yml (lower case, dashes)."""
    flag: str | None
    """The `container-gate` option it sets (None: handled by the entry point itself)."""
    kind: str = "value"
    """`value` (flag VALUE), `bool` (flag when true), `negatable` (--flag / --no-flag), `list`
    (the flag once per item), `check-base` (true, false or best-effort), `build-args` (the flag
    once per NAME=VALUE line), or `special`."""
    default: str = ""
    """Its default in action.yml; GitHub passes it when the workflow gives none."""
    scan_only: bool = False
    """Only meaningful when an image is scanned; an error together with `report`."""


INPUTS: tuple[Input, ...] = (
    Input("image", None, "special"),
    Input("report", None, "special"),
    Input("policy", "--policy"),
    Input("scanner", "--scanner", default="trivy", scan_only=True),
    Input("dockerfile", "--dockerfile", scan_only=True),
    Input("build-args", "--build-arg", "build-args", scan_only=True),
    Input("base-image", "--base-image", scan_only=True),
    Input("platform", "--platform", scan_only=True),
    Input("check-base", "--check-base", "check-base", default="false", scan_only=True),
    Input("sarif", "--sarif", default="container-gate.sarif"),
    Input("sarif-category", "--sarif-category"),
    Input("sarif-location", "--sarif-location"),
    Input("json", "--json"),
    Input("markdown", "--markdown"),
    Input("comment", "--comment", "negatable", default="true"),
    Input("pull-request", None, "special"),
    Input("advisory", "--advisory", "bool", default="false"),
    Input("cache-dir", "--cache-dir", scan_only=True),
    Input("skip-db-update", "--skip-db-update", "bool", default="false", scan_only=True),
    Input("db-repository", "--db-repository", "list", scan_only=True),
    Input("trivy-server", "--trivy-server", scan_only=True),
    Input("max-db-age", "--max-db-age", scan_only=True),
    Input("scan-timeout", "--scan-timeout", scan_only=True),
    Input("baseline", "--baseline"),
    Input("vex", "--vex", "list"),
    Input("openvex", "--openvex"),
    Input("kev", "--kev"),
    Input("epss", "--epss"),
    Input("exploit-data", None, "special"),
    Input("registry", None, "special"),
    Input("registry-username", None, "special"),
    Input("registry-password", None, "special"),
    Input("github-token", None, "special"),
)
"""Every input of action.yml, in its order (a test holds the two together)."""

# The values @actions/core's getBooleanInput accepts (the YAML 1.2 core schema booleans).
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")

# Files the gate writes that the runner's user (not root) must be able to replace afterwards.
_OUTPUT_INPUTS = ("sarif", "json", "markdown", "openvex")
_WRITTEN = {
    "sarif": "SARIF",
    "json": "JSON report",
    "markdown": "Markdown summary",
    "openvex": "OpenVEX document",
}

# `-`, standard input or output on the command line: a container action reads nothing from its
# standard input, and its standard output is the log, where no later step can read a file.
_DASH = "-"
# The inputs naming files the gate reads (the gate refuses `-` in them too, in its own words).
_READ_INPUTS = ("policy", "dockerfile", "baseline", "vex", "kev", "epss")


@dataclass(frozen=True)
class Invocation:
    """What the inputs ask for."""

    argv: tuple[str, ...]
    """The `container-gate` arguments (never holding the token)."""
    token: str | None
    """The `github-token` input, for the GITHUB_TOKEN variable."""
    outputs: tuple[str, ...]
    """The output files the run writes (sarif, json, markdown), as given."""
    trees: tuple[str, ...] = ()
    """Directories the run fills (the DB cache), as given."""
    pull_request: str | None = None
    """The `pull-request` input, for the CONTAINER_GATE_PULL_REQUEST variable."""
    exploit_data: str | None = None
    """The `exploit-data` input: the directory `data fetch` refreshes before the gate runs."""
    kev_given: bool = False
    """Whether the `kev` input names a file (then the one in `exploit_data` is not used)."""
    epss_given: bool = False
    """Whether the `epss` input names a file."""
    on_github: bool = False
    """Whether the run is a GitHub Actions step (`GITHUB_ACTIONS=true`): its warnings are then
    workflow commands, shown among the run's annotations."""
    login: RegistryLogin | None = None
    """The `registry`, `registry-username` and `registry-password` inputs, when a password is given."""


@dataclass(frozen=True, repr=False)
class RegistryLogin:
    """A registry login the inputs give, for the Docker config of this run."""

    registry: str
    """The registry, as the `registry` input names it (`ghcr.io`, `registry.example.com:5000`)."""
    username: str
    """The user name."""
    password: str
    """The password or access token. Never printed, never on a command line or in a variable."""

    def __repr__(self) -> str:
        return f"RegistryLogin(registry={self.registry!r}, username={self.username!r}, password=<hidden>)"


def read_input(env: Mapping[str, str], name: str, default: str = "", *, strip: bool = True) -> str:
    """An input's value: `INPUT_NAME-WITH-DASHES` as GitHub sets it, else the underscore spelling
    (`INPUT_SKIP_DB_UPDATE`, easier to set from a shell), else `default` when neither is set.
    Surrounding blanks are removed, unless `strip` is false (a list, whose line breaks count).

    GitHub sets every input of action.yml, with its default when the workflow gives none, so a
    variable that is set but empty means the workflow asked for "nothing" (`sarif: ''`: no SARIF).
    """
    upper = name.upper().replace(" ", "_")
    for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        value = env.get(key)
        if value is not None:
            return value.strip() if strip else value
    return default


def parse_bool(name: str, value: str) -> bool:
    """`true`/`false` as @actions/core reads them; anything else is an error naming the input."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"input `{name}` must be `true` or `false`, got {value!r}")


def split_list(value: str, *, commas: bool = False) -> list[str]:
    """Items of a list input: one per line when the value has a line break (so an item may hold
    spaces; a YAML block of one line, `report: |`, ends with one), else separated by blanks (and
    commas, with `commas`)."""
    if "\n" in value:
        return [line.strip() for line in value.splitlines() if line.strip()]
    return (value.replace(",", " ") if commas else value).split()


def split_build_args(name: str, value: str) -> list[str]:
    """The NAME=VALUE lines of a `build-args` input, as docker/build-push-action reads its own,
    and as the gate reads its CONTAINER_GATE_BUILD_ARGS (gate.build_args): one per line, each
    without its surrounding blanks, blank lines ignored. A line that is not NAME=VALUE is an
    error that gives its number but never its text: a build argument can hold a secret, and the
    error goes to the log, the step outputs and the job summary."""
    try:
        return split_build_arg_lines(f"input `{name}`", value)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def build_invocation(env: Mapping[str, str]) -> Invocation:
    """The command line the inputs in `env` ask for; InputError when they do not add up."""
    image = read_input(env, "image")
    reports = split_list(read_input(env, "report", strip=False))
    if image and reports:
        raise InputError("inputs `image` and `report` exclude each other: scan an image, or gate reports")
    if not image and not reports:
        raise InputError("input `image` is required (or `report`, to gate existing report files)")
    if _DASH in reports:
        raise InputError(_dash_input("report"))
    argv: list[str] = ["scan" if image else "check"]
    outputs: list[str] = []
    for spec in INPUTS:
        if spec.kind == "special":
            continue
        value = read_input(env, spec.name, spec.default, strip=spec.kind not in ("list", "build-args"))
        if spec.name in _OUTPUT_INPUTS and value == _DASH:
            raise InputError(_dash_output(spec.name))
        if spec.name in _READ_INPUTS and _DASH in (
            split_list(value, commas=True) if spec.kind == "list" else [value]
        ):
            raise InputError(_dash_input(spec.name))
        argv += _flag_arguments(spec, value, scanning=bool(image))
        if spec.name in _OUTPUT_INPUTS and value:
            outputs.append(value)
    if image and any(arg.startswith("--build-arg=") for arg in argv) and not read_input(env, "dockerfile"):
        raise InputError("input `build-args` needs input `dockerfile`: they fill the ARGs of that Dockerfile")
    argv += ["--ci", "github" if env.get("GITHUB_ACTIONS") == "true" else "none"]
    # After `--`, an image or report named like an option (`-x`) is still read as one.
    argv += ["--", image] if image else ["--", *reports]
    token = read_input(env, "github-token") or None
    cache_dir = read_input(env, "cache-dir") if image else ""
    if cache_dir == _DASH:
        # The scanners would keep their DB in a directory named `-` of the workspace.
        raise InputError(_dash_directory("cache-dir"))
    pull_request = read_input(env, "pull-request") or None
    if pull_request is not None and parse_pull_request(pull_request) is None:
        raise InputError(not_a_number("input `pull-request`", pull_request[:40]))
    exploit_data = read_input(env, "exploit-data") or None
    if exploit_data == _DASH:
        raise InputError(_dash_directory("exploit-data"))
    if exploit_data is not None:
        blocker = not_a_directory(exploit_data)
        if blocker is not None:
            raise InputError(f"input `exploit-data` must name a directory: {blocker!r} is not one")
    trees = tuple(tree for tree in (cache_dir, exploit_data) if tree)
    if not image:
        # Gating reports reads no registry: a login given with them would be taken for nothing,
        # as `platform` or `dockerfile` would.
        given = next((name for name in _REGISTRY_INPUTS if read_input(env, name)), None)
        if given is not None:
            raise InputError(f"input `{given}` applies only to scanning an image, not with `report`")
    login = registry_login(env)
    return Invocation(
        tuple(argv),
        token,
        tuple(outputs),
        trees,
        pull_request,
        exploit_data,
        kev_given=bool(read_input(env, "kev")),
        epss_given=bool(read_input(env, "epss")),
        on_github=env.get("GITHUB_ACTIONS") == "true",
        login=login,
    )


_REGISTRY_INPUTS = ("registry", "registry-username", "registry-password")
# A registry as `docker login` takes it: a host name or address, a port; no scheme, no path.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_REGISTRY = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
# The key Docker uses for Docker Hub in config.json (gate.image.registry_auth.HUB_SERVER).
_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")
_HUB_SERVER = "https://index.docker.io/v1/"


def registry_login(env: Mapping[str, str]) -> RegistryLogin | None:
    """The registry login of the `registry`, `registry-username` and `registry-password` inputs;
    None when no password is given (a pull request from a fork gets no secrets: the registry is
    then read anonymously, which `warn_without_password` says). InputError when they do not add up."""
    registry = read_input(env, "registry")
    username = read_input(env, "registry-username")
    password = read_input(env, "registry-password")
    if (username or password) and not registry:
        given = "registry-username" if username else "registry-password"
        raise InputError(
            f"input `{given}` needs input `registry`: the registry the login is for, such as ghcr.io"
        )
    if registry and not _REGISTRY.fullmatch(registry):
        raise InputError(
            f"input `registry` must be a registry host, such as ghcr.io or registry.example.com:5000 "
            f"(no scheme, no repository), got {registry[:80]!r}"
        )
    if password and not username:
        raise InputError("input `registry-password` needs input `registry-username`")
    if not password:
        return None
    return RegistryLogin(registry, username, password)


def warn_without_password(env: Mapping[str, str], *, on_github: bool) -> None:
    """A warning when `registry` names a registry but no password is given: the run goes on, and
    reads that registry anonymously."""
    registry = read_input(env, "registry")
    if registry and not read_input(env, "registry-password"):
        warn(
            f"input `registry-password` is empty: {registry} is read without credentials "
            "(a workflow run for a pull request from a fork gets no secrets)",
            on_github=on_github,
        )


def mask(secret: str) -> None:
    """`::add-mask::`: the runner shows `***` wherever the value would appear in the log, even when
    the workflow passed it as something other than a secret."""
    from gate.platforms.github_commands import escape_data

    print(f"::add-mask::{escape_data(secret)}", flush=True)


def write_docker_config(
    login: RegistryLogin | None, env: Mapping[str, str], kept: Mapping[str, object] | None = None
) -> Path:
    """A Docker config holding `login` (when there is one) and the `kept` logins
    (`existing_logins`) of other registries, in a new directory of mode 0700 (the file 0600) that
    the caller removes when the run ends; the gate and the scanners find it through DOCKER_CONFIG.
    `login` wins for its registry, however it or a kept key spells it (`https://ghcr.io`, `GHCR.io`).

    Never `$HOME/.docker`: a container action's HOME is a directory of the runner's temporary
    directory that GitHub mounts into every later container action of the job. Never the
    workspace either, which later steps read and upload. The container's own temporary directory
    is neither, and goes away with the container. Never the config the workflow named either: it
    is only read.
    """
    from gate.image.registry_auth import default_port_twin, registry_of_key

    directory = Path(tempfile.mkdtemp(prefix="container-gate-docker-", dir=_private_temp(env)))
    auths = dict(kept or {})
    # A kept login covers its registry with and without HTTPS's default port too (`login_keys`).
    for key, entry in list(auths.items()):
        twin = default_port_twin(registry_of_key(key))
        if twin is not None and all(registry_of_key(other) != twin for other in auths):
            auths[twin] = entry
    if login is not None:
        keys = login_keys(login.registry)
        auth = base64.b64encode(f"{login.username}:{login.password}".encode()).decode("ascii")
        registries = {registry_of_key(key) for key in keys}
        auths = {other: entry for other, entry in auths.items() if registry_of_key(other) not in registries}
        auths.update({key: {"auth": auth} for key in keys})
    text = json.dumps({"auths": auths})
    descriptor = os.open(directory / "config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    return directory


def login_keys(registry: str) -> list[str]:
    """The Docker config keys the login of the `registry` input goes under: every spelling an
    image reference may give the registry, as the scanners look a key up as the reference spells
    the registry, letter for letter, where the gate ignores case.

    In lower case, as references name registries. With and without HTTPS's default port
    (`ghcr.io:443` and `ghcr.io`): Docker and the scanners take the two as two registries
    (docker/cli#987, go-containerregistry's keychain), so either input would leave references of
    the other spelling without credentials. Docker Hub under its own key, however it is named.
    """
    from gate.image.registry_auth import default_port_twin

    host = registry.lower()
    bare = host.removesuffix(":443")
    if bare in _HUB:
        return [_HUB_SERVER, host] if bare != host else [_HUB_SERVER]
    twin = default_port_twin(host)
    return [host] if twin is None else [host, twin]


@dataclass(frozen=True)
class ExistingLogins:
    """What the Docker config the run would read without the registry inputs holds for it."""

    auths: dict[str, object]
    """Its `auths` entries, to keep beside the inputs' login."""
    notes: list[str]
    """A warning for each part of it that is not kept."""
    helpers: bool = False
    """Whether it names credential helpers, which the run's own config leaves out."""


def existing_logins(env: Mapping[str, str], *, login: bool = True) -> ExistingLogins:
    """The `auths` of the Docker config the run reads without the registry inputs
    (`$DOCKER_CONFIG/config.json`, as a workflow's `env:` may set it, else the one in HOME), to
    keep beside the inputs' login (`login`: whether the inputs give one; the warnings say so), and
    a warning for each part of it that is not kept. The file is only read.

    Only `auths` is kept. A credential helper (`credsStore`, `credHelpers`) is a program of the
    machine that configured it (docker-credential-desktop, -ecr-login, -gcloud): the action's
    image has none, and a helper that is named but missing fails every registry read it covers,
    in the gate and in the scanners alike (`credsStore`: every registry, public ones and the
    inputs' too). So a config that names one is never read as it is, with or without the inputs.
    """
    from gate._json_decode import loads
    from gate.image.registry_auth import docker_config_file

    config = docker_config_file(env)
    if config is None:
        return ExistingLogins({}, [])
    if not config.is_file():
        named = env.get("DOCKER_CONFIG")
        if not named:
            return ExistingLogins({}, [])
        return ExistingLogins(
            {},
            [
                f"DOCKER_CONFIG names {named}, where the action's container has no config.json: only the "
                "login of the `registry` inputs is used (the container sees the workspace as /github/workspace)"
            ],
        )
    try:
        doc = loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        # The message of a JSON error gives a position, never the text around it.
        return ExistingLogins(
            {},
            [
                f"{config}: cannot read the Docker config ({exc}): only the login of the `registry` inputs is used"
            ],
        )
    if not isinstance(doc, dict):
        return ExistingLogins(
            {},
            [
                f"{config}: the Docker config is not a JSON object: only the login of the `registry` inputs is used"
            ],
        )
    auths = doc.get("auths")
    kept: dict[str, object] = {}
    if isinstance(auths, dict):
        kept = {str(key): entry for key, entry in auths.items() if isinstance(entry, dict)}
    covered = _helpers_of(doc)
    if not covered:
        return ExistingLogins(kept, [])
    beside = " beside the `registry` inputs' login" if login else ""
    return ExistingLogins(
        kept,
        [
            f"{config}: its credential helpers ({covered}) cannot run in the action's container: they "
            f"are left out, the logins of its `auths` are used{beside}, and a registry only a helper "
            "logged in to is read without credentials (give its login to the `registry` inputs)"
        ],
        helpers=True,
    )


def _helpers_of(doc: Mapping[str, object]) -> str:
    """The credential helpers a Docker config names and what each covers (`ecr-login for
    123456789012.dkr.ecr.us-east-1.amazonaws.com`, `gcloud for 12 registries`, `desktop for every
    other registry`); empty for none. gcloud alone names a dozen registries: they are counted."""
    registries: dict[str, list[str]] = {}
    helpers = doc.get("credHelpers")
    for registry, name in helpers.items() if isinstance(helpers, dict) else ():
        if isinstance(name, str) and name:
            registries.setdefault(name, []).append(str(registry))
    said = [
        f"{name} for {found[0] if len(found) == 1 else f'{len(found)} registries'}"
        for name, found in sorted(registries.items())
    ]
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        said.append(f"{store} for every {'other ' if said else ''}registry")
    return ", ".join(said)


def _private_temp(env: Mapping[str, str]) -> str:
    """The temporary directory, unless TMPDIR puts it where others read (the workspace, HOME)."""
    chosen = os.path.realpath(tempfile.gettempdir())
    for shared in (env.get("GITHUB_WORKSPACE"), env.get("HOME")):
        if shared and Path(chosen).is_relative_to(os.path.realpath(shared)):
            return "/tmp"  # noqa: S108 - the container's own, never mounted
    return chosen


def _dash_input(name: str) -> str:
    return (
        f"input `{name}` must name {'files' if name == 'report' else 'a file'}: `-` (standard input) "
        "has nothing to read in an action; give ./- for a file named -"
    )


def _dash_directory(name: str) -> str:
    return (
        f"input `{name}` must name a directory: `-` (standard input or output) names none in an "
        "action; give ./- for a directory named -"
    )


def _dash_output(name: str) -> str:
    return (
        f"input `{name}` must name a file: `-` (standard output) would put the {_WRITTEN[name]} in the "
        f"log, not in a file a later step can read; give ./- for a file named -, or leave it empty for none"
    )


def not_a_directory(path: str) -> str | None:
    """The file that stands where `path` or one of its parents must be a directory, or None. Found
    here, it is a bad input: `data fetch` would stop at it, and the gate then at the missing data."""
    for given in (path, *(str(parent) for parent in Path(path).parents)):
        if os.path.lexists(given):
            return given if not os.path.isdir(given) else None
    return None


class FetchInterrupted(Exception):
    """`data fetch` was interrupted (Ctrl-C, a cancelled job's SIGTERM): the gate must not run."""


EXPLOIT_DATA_MAX_HOURS = 20
"""`data fetch --if-older-than` for the `exploit-data` input: a job run many times a day downloads
once, and a daily job always does."""


def stored_exploit_files(directory: str) -> dict[str, str]:
    """The KEV and EPSS files `data fetch` last stored in `directory`, as paths, by its record
    (`gate.enrich.fetch.stored_names`)."""
    from gate.enrich.fetch import stored_names

    return {kind: os.path.join(directory, name) for kind, name in stored_names(Path(directory)).items()}


def with_exploit_data(invocation: Invocation, fetch: Callable[[list[str]], int]) -> list[str]:
    """The gate's argv once `fetch` (the gate's `main`) has run `data fetch` into the `exploit-data`
    directory: `--kev` and `--epss` name the files stored there, unless the `kev` and `epss` inputs
    name others. A failed fetch is a warning: the files an earlier fetch stored (a restored cache)
    are used, and the policy's `exploit_data.max_age_days` judges their age. FetchInterrupted when
    the fetch was interrupted: a cancelled job goes no further."""
    argv = list(invocation.argv)
    directory = invocation.exploit_data
    if directory is None:
        return argv
    if invocation.kev_given and invocation.epss_given:
        # Both files are named: nothing the fetch stores would be read, and a download that fails
        # would only add a warning about data the run does not use.
        print(
            "container-gate: input `exploit-data`: not fetched, the `kev` and `epss` inputs name the files",
            file=sys.stderr,
        )
        return argv
    # `--out=DIR`: a directory named like an option (`-x`) is still read as one. What the fetch
    # says reaches the log, line by line; on GitHub no line of it (the directory's name, a
    # downloaded file's version) can be a workflow command. Its error line is kept for the warning.
    shown = log_safe if invocation.on_github else None
    said, told = _Echo(sys.stderr, shown), _Echo(sys.stdout, shown)
    with contextlib.redirect_stderr(said), contextlib.redirect_stdout(told):
        try:
            code = fetch(["data", "fetch", f"--out={directory}", f"--if-older-than={EXPLOIT_DATA_MAX_HOURS}"])
        finally:
            said.end()
            told.end()
    if code == ExitCode.INTERRUPTED:
        raise FetchInterrupted
    given = {"kev": invocation.kev_given, "epss": invocation.epss_given}
    if code != ExitCode.PASS:
        needed = tuple(kind for kind, named in given.items() if not named)
        message = fetch_failed(directory, code, said.getvalue(), invocation.token, needed=needed)
        warn(message, on_github=invocation.on_github)
    files = stored_exploit_files(directory)
    added = [f"--{kind}={path}" for kind, path in files.items() if not given[kind]]
    end = argv.index("--")
    return [*argv[:end], *added, *argv[end:]]


class _Echo(io.StringIO):
    """A stream that keeps a copy of what is written and passes it on to `through` line by line,
    each line as `shown` makes it (`end` passes on what is left of a last line)."""

    def __init__(self, through: TextIO, shown: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self._through = through
        self._shown = shown
        self._line = ""

    def write(self, text: str) -> int:
        *whole, self._line = (self._line + text).split("\n")
        for line in whole:
            self._pass_on(line + "\n")
        return super().write(text)

    def end(self) -> None:
        if self._line:
            self._pass_on(self._line)
            self._line = ""
        self._through.flush()

    def _pass_on(self, text: str) -> None:
        self._through.write(self._shown(text) if self._shown else text)


def log_safe(text: str) -> str:
    """Text for a GitHub Actions log that no workflow command can start from (`workflow_inert`)."""
    from gate.platforms.github_commands import workflow_inert

    return workflow_inert(text)


_ERROR_LINE = "container-gate: error: "


_EXPLOIT_DATA_NAMES = {"kev": "KEV catalog", "epss": "EPSS scores"}
"""The data of each kind `data fetch` stores, in the words of the `exploit-data` warning."""


def fetch_failed(directory: str, code: int, said: str, token: str | None, *, needed: tuple[str, ...]) -> str:
    """The warning of a failed `data fetch` for the `exploit-data` input: why it failed (the
    fetch's own error line, whose URLs it already shows without credentials; never the token),
    and which copy the gate uses instead of each kind it reads from `directory` (`needed`: those
    the `kev` and `epss` inputs do not name): the one an earlier fetch stored, by the date it was
    fetched, or none."""
    from gate.cli.data_fetch import last_fetch
    from gate.platforms.interface import masked

    errors = [line.removeprefix(_ERROR_LINE) for line in said.splitlines() if line.startswith(_ERROR_LINE)]
    why = f": {errors[-1]}" if errors else ""
    stored = stored_exploit_files(directory)
    kept = [kind for kind in needed if os.path.isfile(stored[kind])]
    lost = [kind for kind in needed if kind not in kept]
    # The copy is named by its data when the gate reads one kind of it from the directory.
    copy = f"copy of the {_EXPLOIT_DATA_NAMES[needed[0]]}" if len(needed) == 1 else "copy"
    fetched = last_fetch(Path(directory))
    if not kept:
        used = f"{directory} holds no earlier {copy} to use"
    elif lost:
        used = (
            f"the copy of the {_EXPLOIT_DATA_NAMES[kept[0]]} already in {directory} is used; "
            f"it holds no earlier copy of the {_EXPLOIT_DATA_NAMES[lost[0]]}"
        )
    elif fetched is not None:
        used = f"the cached {copy} fetched on {fetched.date().isoformat()} (UTC) in {directory} is used"
    elif len(needed) == 1:
        used = f"the {copy} already in {directory} is used (no record says when it was fetched)"
    else:
        used = f"the files already in {directory} are used (no record says when they were fetched)"
    return masked(
        f"input `exploit-data`: the KEV and EPSS data could not be refreshed (exit {code}){why}; {used}",
        token,
    )


def warn(message: str, *, on_github: bool) -> None:
    """A warning of the entry point: on GitHub Actions a `::warning::` workflow command, so that it
    is among the run's annotations (escaped: it cannot end early or start another command), else
    a line on standard error."""
    if on_github:
        from gate.platforms.github_commands import workflow_command

        print(workflow_command("warning", message, title="container-gate: warning"), flush=True)
        return
    from gate.untrusted import terminal_safe

    print(f"container-gate: warning: {terminal_safe(message)}", file=sys.stderr)


def _flag_arguments(spec: Input, value: str, *, scanning: bool) -> list[str]:
    if spec.flag is None:
        return []
    if spec.kind == "check-base":
        if value == "best-effort":
            return _scanning_only(spec, scanning, [f"{spec.flag}=best-effort"])
        if value and value not in (*_TRUE, *_FALSE):
            raise InputError(f"input `{spec.name}` must be `true`, `false` or `best-effort`, got {value!r}")
        return _scanning_only(
            spec, scanning, [spec.flag] if parse_bool(spec.name, value or spec.default) else []
        )
    if spec.kind == "build-args":
        return _scanning_only(
            spec, scanning, [f"{spec.flag}={line}" for line in split_build_args(spec.name, value)]
        )
    if spec.kind in ("bool", "negatable"):
        # An empty boolean (`advisory: ${{ inputs.unset }}` in a reusable workflow) is its default.
        on = parse_bool(spec.name, value or spec.default)
        if spec.kind == "negatable":
            return [spec.flag if on else "--no-" + spec.flag.removeprefix("--")]
        if on and spec.scan_only and not scanning:
            raise InputError(f"input `{spec.name}` applies only to scanning an image, not with `report`")
        return [spec.flag] if on else []
    if not value.strip() or (spec.scan_only and not scanning and value == spec.default):
        return []
    if spec.scan_only and not scanning:
        raise InputError(f"input `{spec.name}` applies only to scanning an image, not with `report`")
    # `--flag=value` keeps a value that starts with a dash from being read as another option.
    if spec.kind == "list":
        return [f"{spec.flag}={item}" for item in split_list(value, commas=True)]
    return [f"{spec.flag}={value}"]


def _scanning_only(spec: Input, scanning: bool, argv: list[str]) -> list[str]:
    if argv and not scanning:
        raise InputError(f"input `{spec.name}` applies only to scanning an image, not with `report`")
    return argv


def give_back_to_workspace_owner(files: Sequence[str], trees: Sequence[str], env: Mapping[str, str]) -> None:
    """Hand what the gate wrote inside the workspace to the workspace's owner: `files` with the
    directories created for them, and everything under `trees` (the DB cache).

    GitHub runs a container action as root (its docs: a USER instruction would lose access to the
    workspace), while later steps run as the runner's user, which could neither overwrite a
    root-owned SARIF file nor clean a root-owned directory. Only root-owned paths inside the
    workspace change, and symbolic links are never followed (`lchown`): a path is judged by where
    its directories really are, so a directory of the checkout that links elsewhere (`out ->
    /etc`) never hands over what lies beyond it.
    """
    workspace = env.get("GITHUB_WORKSPACE")
    if not workspace or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    root = Path(os.path.realpath(workspace))
    owner = root.stat()

    def give(path: Path) -> None:
        try:
            if path.lstat().st_uid == 0:
                os.lchown(path, owner.st_uid, owner.st_gid)
        except FileNotFoundError:
            pass
        except OSError as exc:
            from gate.untrusted import terminal_safe

            # The path is the workflow's, whole lines and all: one line, and on GitHub no command.
            said = f"container-gate: warning: cannot hand {terminal_safe(str(path))} to the runner's user: {exc.strerror}"
            print(log_safe(said) if env.get("GITHUB_ACTIONS") == "true" else said, file=sys.stderr)

    for given in (*files, *trees):
        path = _where(given)
        if not path.is_relative_to(root) or path == root:
            continue
        if given in trees and path.is_dir() and not path.is_symlink():
            for top, dirs, names in os.walk(path):
                for name in (*dirs, *names):
                    give(Path(top, name))
        while path != root:
            give(path)
            path = path.parent


def _where(given: str) -> Path:
    """Where `given` (relative to the working directory, as the gate wrote it) really is: its
    directories with their symbolic links and `..` resolved as the system resolved them when the
    gate wrote there, its last part kept as it is (a link there is handed over itself, never what
    it points to)."""
    head, name = os.path.split(given)
    if name in ("", ".", ".."):
        return Path(os.path.realpath(given))
    return Path(os.path.realpath(head or os.curdir), name)


# An option of the gate's command line as its usage errors name it (`argument --scanner: ...`,
# `--json PATH: the same file as --sarif`), and the inputs' names for the positional arguments.
_OPTION_IN_MESSAGE = re.compile(r"(?<![^\s(])(?:argument )?(--[a-z][a-z-]*)(?=[\s:;,)]|$)")
_POSITIONAL_IN_MESSAGE = re.compile(r"(?<=the same file as )(REPORT|IMAGE)\b")


def said_of_inputs(message: str) -> str:
    """A usage error of the gate's command line in the words of the action: `input `scanner``
    where the gate says `argument --scanner`, since the workflow sets inputs, not options."""
    names = {spec.flag: spec.name for spec in INPUTS if spec.flag}

    def option(found: re.Match[str]) -> str:
        name = names.get(found.group(1))
        return f"input `{name}`" if name else found.group(0)

    message = _OPTION_IN_MESSAGE.sub(option, message)
    return _POSITIONAL_IN_MESSAGE.sub(lambda found: f"input `{found.group(1).lower()}`", message)


def error_argv(env: Mapping[str, str], *, files: bool = True) -> list[str]:
    """A gate command line naming only what reporting an error needs: the output files the inputs
    name (each read alone, so one bad input does not hide the others; none without `files`), the
    CI options, and the image and platform whose comment the error goes in."""
    argv = ["--ci", "auto"]
    if files:
        argv += [f"{flag}={value}" for flag, value in _error_outputs(env)]
    # Empty is the default, as for the run itself; `false`, or the bad input itself, is none.
    if (read_input(env, "comment") or "true") not in _TRUE:
        argv.append("--no-comment")
    image = read_input(env, "image")
    if not image:
        return ["check", *argv, "--", "(action inputs)"]
    # The `platform` input picks the comment among those of the image's other platforms (a
    # matrix), as it does for an error of the gate itself; only a scan takes it, and one the
    # gate refuses (perhaps the bad input) names none.
    from gate.cli.scan_options import is_platform

    platform = read_input(env, "platform")
    if is_platform(platform):
        argv.append(f"--platform={platform}")
    return ["scan", *argv, f"--image-name={image}", "--", image]


def _error_outputs(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The output files the inputs name, each read alone, with their options."""
    found = []
    for spec in INPUTS:
        if spec.name in _OUTPUT_INPUTS and spec.flag:
            value = read_input(env, spec.name, spec.default)
            if value and value != _DASH:  # an error report in the log is no file either
                found.append((spec.flag, value))
    return found


def report_input_error(message: str, env: Mapping[str, str], *, files: bool = True) -> None:
    """What any failed run leaves, for a bad input too: the error outputs (`--json`, `--markdown`;
    no stale SARIF; none without `files`, when the output inputs are what is wrong), the step
    outputs (`verdict: error`, `error`), the job summary and an error annotation."""
    from gate.cli.main import report_error  # imported late: only a bad input needs it here

    token = read_input(env, "github-token")
    if token:
        os.environ["GITHUB_TOKEN"] = token
    # An output input argparse cannot take exits inside it: the error line above still stands.
    try:
        with contextlib.suppress(SystemExit):
            report_error(error_argv(env, files=files), message, ExitCode.USAGE)
    finally:
        # Written as root, as a run's outputs are, and handed back the same way.
        written = [value for _flag, value in _error_outputs(env)] if files else []
        give_back_to_workspace_owner(written, (), env)


def main() -> int:
    """Run the gate as the inputs in the environment ask; returns its exit code (2 for a bad input)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # A bad input's value is in its error line: on GitHub, it cannot make the line a command.
    shown = log_safe if os.environ.get("GITHUB_ACTIONS") == "true" else str
    try:
        invocation = build_invocation(os.environ)
    except InputError as exc:
        print(shown(f"container-gate: error: {exc}"), file=sys.stderr)
        report_input_error(str(exc), os.environ)
        return ExitCode.USAGE  # a bad input is a usage error
    from gate.cli.main import usage_problem  # imported late: a bad input needs no gate at all
    from gate.untrusted import terminal_safe

    # A value only the gate's command line checks (`scanner: Trivy`, `scan-timeout: 10m`, two
    # outputs to one file) is a bad input too, reported as such rather than as an option.
    problem = usage_problem(invocation.argv)
    if problem is not None:
        message = said_of_inputs(problem.message)
        print(shown(f"container-gate: error: {terminal_safe(message)}"), file=sys.stderr)
        report_input_error(message, os.environ, files=problem.outputs_usable)
        return ExitCode.USAGE
    if invocation.token:
        os.environ["GITHUB_TOKEN"] = invocation.token
    if invocation.login is not None and invocation.on_github:
        mask(invocation.login.password)
    warn_without_password(os.environ, on_github=invocation.on_github)
    if invocation.pull_request:
        # Read by the gate in a `workflow_run` event only, and checked against GitHub there.
        os.environ[PULL_REQUEST_VARIABLE] = invocation.pull_request
    # The inputs are read: the gate takes them from its command line and GITHUB_TOKEN, and the
    # scanners it starts get the environment it runs in. None of them reads an input, and some
    # inputs hold secrets: the token, and a build argument (a package index's token).
    for key in [key for key in os.environ if key.startswith("INPUT_")]:
        del os.environ[key]

    from gate.cli.main import main as gate_main  # imported late: a bad input needs no gate at all
    from gate.cli.run_by import RUN_BY_ACTION

    # The summaries then point to the `json` input, not to `--json`.
    os.environ[RUN_BY_ACTION] = "true"

    docker_config = None
    existing = (
        existing_logins(os.environ, login=invocation.login is not None)
        if invocation.argv[0] == "scan"
        else None
    )
    if existing is not None and (invocation.login is not None or existing.helpers):
        # The gate and the scanners read the registry with the login; the password is in no
        # variable. The logins of the config they would read without it stay beside it, and its
        # credential helpers, which cannot run here, are left out, login or not.
        for note in existing.notes:
            warn(note, on_github=invocation.on_github)
        docker_config = write_docker_config(invocation.login, os.environ, existing.auths)
        os.environ["DOCKER_CONFIG"] = str(docker_config)
    try:
        try:
            argv = with_exploit_data(invocation, gate_main)
        except FetchInterrupted:
            from gate.cli.main import report_interrupted

            # No earlier run's verdict stays in the outputs for a later step to read as this one's.
            report_interrupted(invocation.argv)
            return ExitCode.INTERRUPTED
        return gate_main(argv)
    finally:
        if docker_config is not None:
            shutil.rmtree(docker_config, ignore_errors=True)
        give_back_to_workspace_owner(invocation.outputs, invocation.trees, os.environ)


if __name__ == "__main__":
    sys.exit(main())
