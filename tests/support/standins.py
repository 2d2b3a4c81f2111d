"""STAND-INS for scanner binaries, for failure modes the real binaries cannot be made to show here.

No Grype binary is installed on the test machines, and the real Trivy cannot be made to print
garbage or crash. A stand-in is a small Python script written into a temporary directory, named
`*-standin` so no log mistakes it for the real tool. It checks the arguments and the environment
it receives against what the test expects (exit 97 and a message when they differ), records each
call in a log, and then does what its mode says:

- Grype reads its configuration file as Grype does (the `--config` files, else the first it finds
  in the working directory, the home directory and $XDG_CONFIG_HOME), and applies the settings
  that drop findings (`exclude`, `only-fixed`, `only-notfixed`) to the report it replays.
- Grype `ok`: replays a REAL Grype output (a file of tests/data/corpus/grype) for a scan, and answers
  `version -o json` and `db status -o json` in Grype's formats (v6 `db status`: schemaVersion,
  from, built, path, valid; checked against Grype's source and published outputs).
- `exit1`, `garbage`, `truncated`, `hang`, `missing-db`, `crash`, `old-version`, `logged-error`,
  `fail-on`, `unauthorized`: each failure (`logged-error`: Grype's error as a log line, `[0001]
  ERROR ...`; `fail-on`: the report, then Grype's exit 2 for a `fail-on-severity` of its
  configuration; `unauthorized`: a registry's refusal of the image, as go-containerregistry words it).
  `hang` starts a child process first and records both process ids (`StandIn.pids`), so a test
  can check that stopping the scanner stopped its children too.
- The Trivy stand-in wraps the REAL Trivy: it passes `version` through (or prints an old version),
  and for `image` either passes the real report through (`ok`), truncates it, prints garbage,
  crashes or hangs. It checks its environment like the Grype one.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.corpus import corpus_file

# Provenance (tests/data/PROVENANCE.md):
# | `corpus/grype/anchore-grype__chainguard-ruby-test.json` | anchore/grype |
#   `grype/presenter/explain/testdata/chainguard-ruby-test.json` | `4562c55cebba` | Apache-2.0 |
CHAINGUARD_RUBY = corpus_file("grype", "chainguard-ruby-test.json")
CI_JOB_CREDENTIALS = (
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "CONTAINER_GATE_BUILD_ARGS",
)
"""Credentials GitLab and GitHub hand every job, and the build arguments the gate reads (a secret
may be among them), which a scanner stand-in expects never to see."""
STANDIN_GRYPE_VERSION = "0.92.2"
"""The version the Grype stand-in claims by default (a supported one)."""

_SCRIPT = '''#!{python}
"""STAND-IN for `{tool}`, written by container-gate's tests; not the real tool. Config: {config}"""
import json, os, signal, sys, time

config = json.load(open({config!r}))
args = sys.argv[1:]
with open(config["log"], "a") as log:
    env = {{k: v for k, v in os.environ.items() if k.startswith(("GRYPE_", "DOCKER_HOST"))}}
    log.write(json.dumps({{"argv": args, "env": env, "cwd": os.getcwd()}}) + "\\n")
mode = config["mode"]


def refuse(why):
    sys.stderr.write("stand-in: " + why + "\\n")
    sys.exit(97)


def check_env():
    for key, value in config.get("expect_env", {{}}).items():
        if os.environ.get(key) != value:
            refuse(f"expected {{key}}={{value!r}}, got {{os.environ.get(key)!r}}")
    for key in config.get("expect_unset", []):
        if key in os.environ:
            refuse(f"expected {{key}} set to nothing, but it is set")


def hang():
    import subprocess
    child = subprocess.Popen(["sleep", "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(config["pids"] + ".part", "w") as out:
        out.write(f"{{os.getpid()}} {{child.pid}}")
    os.replace(config["pids"] + ".part", config["pids"])
    time.sleep(3600)


{body}
'''

_GRYPE_BODY = """
check_env()
# Grype's configuration file as anchore/fangs finds it: the files given with --config, else the
# first of ./.grype.yaml, ./.grype/config.yaml, ~/.grype.yaml, $XDG_CONFIG_HOME/grype/config.yaml.
given = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("--config", "-c")]
args = [arg for i, arg in enumerate(args) if arg not in ("--config", "-c") and (i == 0 or args[i - 1] not in ("--config", "-c"))]
for name in given:
    if not os.path.isfile(name):
        refuse(f"--config {name}: file does not exist")
home = os.environ.get("HOME", "")
xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
searched = [".grype.yaml", ".grype/config.yaml", os.path.join(home, ".grype.yaml"), os.path.join(xdg, "grype", "config.yaml")]
found = given or [name for name in searched if os.path.isfile(name)][:1]
settings = {}
for name in found:
    import yaml
    settings.update(yaml.safe_load(open(name)) or {})
if args == ["version", "-o", "json"]:
    print(json.dumps({"application": "grype", "version": config["version"], "supportedDbSchema": 6}))
    sys.exit(0)
if args == ["db", "status", "-o", "json"]:
    if mode == "missing-db":
        print(json.dumps({"schemaVersion": "v6.0.2", "path": "/cache/6/vulnerability.db", "valid": False,
                          "error": "database does not exist"}, indent=1))
        sys.exit(1)
    print(json.dumps({"schemaVersion": "v6.0.2", "from": "stand-in", "built": config["db_built"],
                      "path": "/cache/6/vulnerability.db", "valid": True}, indent=1))
    sys.exit(0)
if len(args) < 3 or args[1:3] != ["-o", "json"]:
    refuse(f"expected `grype SOURCE -o json [--platform P]`, got {args}")
if args[0] != config["expect_source"]:
    refuse(f"expected source {config['expect_source']!r}, got {args[0]!r}")
if args[3:] != config.get("expect_extra", []):
    refuse(f"expected extra arguments {config.get('expect_extra', [])}, got {args[3:]}")
report = open(config["report"], "rb").read()
if any(settings.get(key) for key in ("exclude", "only-fixed", "only-notfixed")):
    # What Grype does with them: `exclude` drops the packages at those paths before matching;
    # `only-fixed` and `only-notfixed` are ignore rules on the fix state (ignoredMatches).
    import fnmatch
    doc = json.loads(report)
    doc["descriptor"].setdefault("configuration", {}).update(
        {key: settings[key] for key in ("exclude", "only-fixed", "only-notfixed") if key in settings}
    )
    def excluded(match):
        paths = [loc.get("path", "") for loc in match["artifact"].get("locations", [])]
        return any(fnmatch.fnmatch(path, glob) for path in paths for glob in settings.get("exclude") or [])
    def ignored(match):
        fixed = match["vulnerability"].get("fix", {}).get("state") == "fixed"
        return (settings.get("only-fixed") and not fixed) or (settings.get("only-notfixed") and fixed)
    kept = [match for match in doc["matches"] if not excluded(match)]
    doc["ignoredMatches"] = [{**match, "appliedIgnoreRules": [{"fix-state": "not-fixed"}]} for match in kept if ignored(match)]
    doc["matches"] = [match for match in kept if not ignored(match)]
    report = json.dumps(doc).encode()
if settings.get("match-upstream-kernel-headers") is not True:
    # Grype's default: its matches of kernel headers packages through the kernel they are built
    # from are ignore rules' (cmd/grype/cli/commands/root.go `ignoreLinuxKernelHeaders`).
    import re
    headers = [("rpm", "kernel-headers", "kernel"), ("deb", "linux(-.*)?-headers-.*", "linux.*"),
               ("deb", "linux-libc-dev", "linux")]
    def header_rule(match):
        artifact = match["artifact"]
        upstream = (artifact.get("upstreams") or [{}])[0].get("name", "")
        indirect = any(d.get("type") == "exact-indirect-match" for d in match.get("matchDetails", []))
        for kind, name, source in headers:
            if indirect and artifact.get("type") == kind and re.fullmatch(name, artifact["name"]) and re.fullmatch(source, upstream):
                return {"namespace": "", "package": {"name": name, "language": "", "type": kind, "upstream-name": source},
                        "match-type": "exact-indirect-match"}
        return None
    doc = json.loads(report)
    moved = [(match, header_rule(match)) for match in doc["matches"]]
    if any(rule for _, rule in moved):
        doc["matches"] = [match for match, rule in moved if rule is None]
        doc["ignoredMatches"] = [{**match, "appliedIgnoreRules": [rule]} for match, rule in moved if rule]
        report = json.dumps(doc).encode()
if mode == "ok":
    sys.stdout.buffer.write(report)
elif mode == "exit1":
    sys.stderr.write("1 error occurred:\\n\\t* failed to catalog: could not fetch image 'x': unable to load image\\n")
    sys.exit(1)
elif mode == "unauthorized":
    sys.stderr.write("1 error occurred:\\n\\t* failed to catalog: could not fetch image " + repr(args[0]) + ": unable to use "
                     "OciRegistry source: failed to get image descriptor from registry: GET "
                     "http://127.0.0.1:5000/v2/private/app/manifests/1: UNAUTHORIZED: authentication required; "
                     "[map[Action:pull Class: Name:private/app Type:repository]]\\n")
    sys.exit(1)
elif mode == "missing-db":
    sys.stderr.write("failed to load vulnerability db: vulnerability database is invalid (run db update to correct)\\n")
    sys.exit(1)
elif mode == "garbage":
    sys.stdout.write("[0000]  WARN some log line that went to stdout\\nnot json at all\\n")
elif mode == "truncated":
    sys.stdout.buffer.write(report[: len(report) // 2])
elif mode == "hang":
    hang()
elif mode == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
elif mode == "logged-error":
    # Grype's own log lines (0.7x and later): the seconds since it started, the level, the text.
    sys.stderr.write("[0000]  WARN unable to determine the OS distribution of some packages\\n")
    sys.stderr.write("[0001] ERROR could not determine source: an image reference is not a file\\n")
    sys.exit(1)
elif mode == "fail-on":
    # A `fail-on-severity` of the user's Grype configuration file: the full report, then Grype
    # 0.91.1's (and later) error line and exit code for findings at or above it.
    sys.stdout.buffer.write(report)
    sys.stderr.write("[0000] ERROR discovered vulnerabilities at or above the severity threshold\\n")
    sys.exit(2)
"""

_TRIVY_BODY = """
check_env()
real = config["real"]
if args[:1] == ["version"]:
    if mode == "old-version":
        print(json.dumps({"Version": "0.49.1"}))
        sys.exit(0)
    os.execv(real, [real, *args])
if args[:1] != ["image"]:
    refuse(f"expected `trivy version` or `trivy image`, got {args}")
if mode == "garbage":
    sys.stdout.write("Version 0.99.0 of Trivy is now available\\n")
    sys.exit(0)
if mode == "crash":
    os.kill(os.getpid(), signal.SIGSEGV)
if mode == "hang":
    hang()
import subprocess
done = subprocess.run([real, *args], capture_output=True)
sys.stderr.buffer.write(done.stderr)
if mode == "truncated":
    sys.stdout.buffer.write(done.stdout[: len(done.stdout) // 2])
    sys.exit(0)
sys.stdout.buffer.write(done.stdout)
sys.exit(done.returncode)
"""


@dataclass(frozen=True)
class StandIn:
    """A written stand-in: its path, and the log of the calls it received."""

    path: Path
    """The executable."""
    log: Path
    """One JSON line per call: argv, GRYPE_*/DOCKER_HOST environment, working directory."""

    def calls(self) -> list[dict[str, Any]]:
        """Every call so far."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    @property
    def pids_file(self) -> Path:
        """Where a `hang` run writes its own process id and its child's."""
        return self.log.with_suffix(".pids")

    def pids(self) -> list[int]:
        """The process ids a `hang` run recorded (none before it started)."""
        if not self.pids_file.exists():
            return []
        return [int(pid) for pid in self.pids_file.read_text().split()]


def running(pid: int) -> bool:
    """True while process `pid` runs; a zombie (dead, not yet reaped) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def stopped(pids: list[int], within: float = 30.0) -> bool:
    """True once none of `pids` runs; False if one still does after `within` seconds (a SIGKILL
    takes effect a moment after it is sent, so this waits rather than looks once)."""
    deadline = time.monotonic() + within
    while any(running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _write(directory: Path, tool: str, body: str, config: Mapping[str, Any]) -> StandIn:
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"{tool}-standin.calls.jsonl"
    config_path = directory / f"{tool}-standin.json"
    config_path.write_text(json.dumps({**config, "log": str(log), "pids": str(log.with_suffix(".pids"))}))
    path = directory / f"{tool}-standin"
    path.write_text(_SCRIPT.format(python=sys.executable, tool=tool, config=str(config_path), body=body))
    path.chmod(0o755)
    return StandIn(path=path, log=log)


def grype_standin(
    directory: Path,
    *,
    expect_source: str,
    mode: str = "ok",
    report: Path = CHAINGUARD_RUBY,
    version: str = STANDIN_GRYPE_VERSION,
    db_built: str = "2026-01-01T00:00:00Z",
    expect_env: Mapping[str, str] | None = None,
    expect_unset: tuple[str, ...] = (),
    expect_extra: tuple[str, ...] = (),
) -> StandIn:
    """A Grype stand-in replaying `report` (a real Grype output) when scanning `expect_source`."""
    config = {
        "mode": mode,
        "report": str(report),
        "version": version,
        "db_built": db_built,
        "expect_source": expect_source,
        "expect_env": dict(expect_env or {}),
        "expect_unset": list(expect_unset),
        "expect_extra": list(expect_extra),
    }
    return _write(directory, "grype", _GRYPE_BODY, config)


def trivy_standin(
    directory: Path,
    real: Path,
    mode: str,
    *,
    expect_env: Mapping[str, str] | None = None,
    expect_unset: tuple[str, ...] = (),
) -> StandIn:
    """A wrapper around the real Trivy: passes it through (`ok`) or fails in `mode` (old-version,
    garbage, truncated, crash, hang), after checking its environment."""
    config = {
        "mode": mode,
        "real": str(real),
        "expect_env": dict(expect_env or {}),
        "expect_unset": list(expect_unset),
    }
    return _write(directory, "trivy", _TRIVY_BODY, config)
