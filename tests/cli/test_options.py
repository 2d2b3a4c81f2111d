"""The parsed command line becomes typed options once; nothing after it reads the namespace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gate.build_args import VARIABLE as BUILD_ARGS_VARIABLE
from gate.cli.options import Command, Options, OutputFormat, options_from
from gate.cli.parser import build_parser
from gate.cli.scan_options import with_variable_build_args
from gate.scanners.options import ScannerChoice

NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)


def options(*argv: str) -> Options:
    return options_from(build_parser().parse_args(list(argv)), {"PATH": "/usr/bin"}, NOW)


def test_check_options_are_typed_and_the_files_keep_their_writing_order() -> None:
    got = options(
        "-v", "check", "a.json", "b.json", "--sarif", "g.sarif", "--json", "d.json", "--as-of", "2027-02-01",
        "--advisory", "--ci", "github", "--no-comment", "--image-name", "ghcr.io/acme/app:1",
    )  # fmt: skip
    assert got.command is Command.CHECK
    assert got.verbose
    assert got.reports == (Path("a.json"), Path("b.json"))
    assert list(got.outputs.files.items()) == [(OutputFormat.JSON, "d.json"), (OutputFormat.SARIF, "g.sarif")]
    assert got.policy.as_of == dt.datetime(2027, 2, 1, 12, tzinfo=dt.UTC)
    assert got.policy.advisory
    assert (got.publish.ci, got.publish.comment) == ("github", False)
    assert got.image == "ghcr.io/acme/app:1"
    assert got.scan is None
    assert got.started_at == NOW


def test_scan_options_carry_the_scan_request_with_the_environment_and_the_clock() -> None:
    got = options("scan", "docker-archive:app.tar", "--scanner", "both", "--dockerfile", "Dockerfile")
    assert got.command is Command.SCAN
    assert got.scan is not None
    assert got.scan.reference == "docker-archive:app.tar"
    assert got.scan.scanner is ScannerChoice.BOTH
    assert got.scan.options.env == {"PATH": "/usr/bin"}
    assert got.scan.options.now == NOW
    assert got.dockerfile == Path("Dockerfile")
    assert got.image == "docker-archive:app.tar"  # no --image-name: the image scanned
    assert got.outputs.files == {}


def test_build_args_reach_the_scan_request_in_the_order_given() -> None:
    got = options(
        "scan", "app.tar", "--dockerfile", "Dockerfile", "--build-arg", "BASE=python:3.12-slim",
        "--build-arg", "EMPTY=", "--build-arg", "BASE=python:3.13-slim",
    )  # fmt: skip
    assert got.scan is not None
    assert got.scan.build_args == (("BASE", "python:3.12-slim"), ("EMPTY", ""), ("BASE", "python:3.13-slim"))
    assert options("scan", "app.tar").scan.build_args == ()  # type: ignore[union-attr]


def test_a_build_arg_is_left_out_of_the_repr_of_the_options() -> None:
    # A build argument can hold a secret: the repr (a debugging print, a test's failure) leaves it out.
    got = options("scan", "app.tar", "--dockerfile", "Dockerfile", "--build-arg", "NPM_TOKEN=npm_S3cretValue")
    assert got.scan is not None
    assert got.scan.build_args == (("NPM_TOKEN", "npm_S3cretValue"),)
    assert "S3cret" not in repr(got)


def test_commands_without_outputs_publish_nowhere() -> None:
    validate = options("policy", "validate", "p.yaml")
    assert (validate.command, validate.policy_files) == (Command.POLICY_VALIDATE, (Path("p.yaml"),))
    explain = options("explain", "CVE-2024-0001", "--report", "r.json")
    assert (explain.command, explain.vulnerability, explain.reports) == (
        Command.EXPLAIN,
        "CVE-2024-0001",
        (Path("r.json"),),
    )
    for got in (validate, explain):
        assert (got.publish.ci, got.publish.comment, dict(got.outputs.files)) == ("none", False, {})


def test_build_args_of_the_variable_come_first_and_are_left_out_of_the_repr_too() -> None:
    # CONTAINER_GATE_BUILD_ARGS (the GitLab templates' build arguments, off the command line):
    # its lines first, then --build-arg, so a --build-arg of the same name wins, as with docker build.
    env = {
        "PATH": "/usr/bin",
        BUILD_ARGS_VARIABLE: " BASE=python:3.12-slim\r\n\r\nNPM_TOKEN=npm_S3cretValue\n",
    }
    argv = ["scan", "app.tar", "--dockerfile", "Dockerfile", "--build-arg", "BASE=python:3.13-slim"]
    got = options_from(build_parser().parse_args(argv), env, NOW)
    assert got.scan is not None
    request = with_variable_build_args(got.scan)
    assert request.build_args == (
        ("BASE", "python:3.12-slim"),
        ("NPM_TOKEN", "npm_S3cretValue"),
        ("BASE", "python:3.13-slim"),
    )
    assert "S3cret" not in repr(got) + repr(request)
