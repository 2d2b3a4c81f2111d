"""`container-gate compare` end to end: the real Trivy, offline, on the test bed's image family.

The family mirrors the experiment behind the project (python:3.9, -slim, distroless, alpine,
scratch); testbed/expected_family.yaml, derived from the advisories and the images' packages,
says what each must show. Compare informs, it does not gate: exit 0 whatever the verdicts, 3 when
an image could not be scanned (its row says why).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.scanners.batch import BatchItem, Progress, scan_batch
from gate.scanners.options import ScannerChoice, ScanOptions
from testbed.derive_family import FAMILY, SEVERITIES, load_family_expected
from testbed.engine import Engine, Registry
from testbed.family import BuiltFamily, FamilyArchives
from testbed.trivy import scan_image
from tests.support.corpus import corpus_file
from tests.support.registry_tools import Pusher, oci_image, read_docker_archive
from tests.support.repo_paths import PROJECT_ROOT
from tests.support.tty import shown, standard_input, terminal

EXPECTED = load_family_expected()
ROW_KEYS = [
    "reference", "os", "arch", "size_bytes", "created", "packages", "findings",
    "counts_by_severity", "fixable", "blocking", "verdict", "error", "warnings", "actions",
    "known_exploited", "policy_failures", "would_block", "allowlist_attention", "base_image", "vex",
]  # fmt: skip


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    json: dict[str, Any]


@pytest.fixture
def compare(trivy_bin: Path, trivy_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*refs: str, args: tuple[str, ...] = (), skip_db_update: bool = True) -> Run:
        out = tmp_path / "compare.json"
        argv = [
            "compare",
            *refs,
            "--trivy-bin",
            str(trivy_bin),
            "--cache-dir",
            str(trivy_db),
            "--json",
            str(out),
        ]
        argv += ["--skip-db-update"] if skip_db_update else []
        code = main([*argv, *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, json.loads(out.read_text()) if out.exists() else {})

    return run


def assert_family_rows(rows: list[dict[str, Any]], names: list[str]) -> None:
    """Each row is its image's expected counts, in the order given."""
    assert len(rows) == len(names)
    for row, name in zip(rows, names, strict=True):
        assert list(row) == ROW_KEYS
        expected = EXPECTED[name]
        assert row["error"] is None
        assert (row["os"], row["arch"]) == ("linux", "amd64")
        assert row["packages"] == expected.packages, name
        assert row["counts_by_severity"] == dict(expected.counts_by_severity), name
        assert row["findings"] == len(expected.findings) == sum(expected.counts_by_severity.values())
        assert row["fixable"] == sum(1 for f in expected.findings if f.fixed), name
        assert row["created"]
    findings = {name: row["findings"] for row, name in zip(rows, names, strict=True)}
    if set(findings) == set(FAMILY):
        # The comparison behind the project keeps its order.
        assert findings["full"] > findings["slim"] > findings["distroless"] > findings["alpine"]
        assert findings["alpine"] >= findings["scratch"]


def test_the_family_from_the_engine(
    compare: Any, family_images: BuiltFamily, docker_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_engine.host)
    names = list(FAMILY)
    run = compare(*(family_images.refs[name] for name in names))
    assert run.code == ExitCode.PASS, run.stderr
    assert run.json["schema"] == "container-gate/compare/v1"
    assert run.json["policy"] == "policies/default.yaml (shipped default)"
    rows = run.json["images"]
    assert [row["reference"] for row in rows] == [family_images.refs[name] for name in names]
    assert_family_rows(rows, names)
    # The engine knows only the unpacked size: no compressed size is made up.
    assert {row["size_bytes"] for row in rows} == {None}
    # Under the default policy (fixable HIGH and CRITICAL block) three fail and two pass: compare
    # still exits 0, it is not a gate.
    assert [row["verdict"] for row in rows] == ["fail", "fail", "fail", "pass", "pass"]
    lines = run.stdout.splitlines()
    assert lines[0] == "container-gate compare: 5 images, policy policies/default.yaml (shipped default)"
    assert [line.split()[0] for line in lines[2:7]] == [family_images.refs[name] for name in names]
    assert run.stderr == ""  # not a terminal: no progress


def test_rows_keep_the_order_given_whatever_order_the_scans_end_in(
    compare: Any, family_archives: FamilyArchives
) -> None:
    names = list(reversed(FAMILY))
    run = compare(*(f"docker-archive:{family_archives.paths[n]}" for n in names), args=("--jobs", "3"))
    assert run.code == ExitCode.PASS, run.stderr
    assert [row["reference"] for row in run.json["images"]] == [
        f"docker-archive:{family_archives.paths[n]}" for n in names
    ]
    assert_family_rows(run.json["images"], names)
    assert {row["created"] for row in run.json["images"]} == {"2023-11-14T22:13:20Z"}


def test_one_image_failing_is_a_row_with_its_error(
    compare: Any, family_archives: FamilyArchives, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"SchemaVersion": 2, "Results": 7}')
    refs = (
        f"docker-archive:{family_archives.paths['alpine']}",
        f"docker-archive:{tmp_path}/missing.tar",
        f"broken={broken}",
        f"docker-archive:{family_archives.paths['scratch']}",
    )
    run = compare(*refs)
    assert run.code == ExitCode.ERROR
    rows = run.json["images"]
    assert [row["reference"] for row in rows] == [refs[0], refs[1], "broken", refs[3]]
    assert_family_rows([rows[0], rows[3]], ["alpine", "scratch"])
    assert rows[1]["error"] == f"docker-archive:{tmp_path}/missing.tar: no such file"
    assert rows[2]["error"] == f"{broken}: Results: expected an array, got a number"
    for row in rows[1:3]:
        assert row["verdict"] == "error"
        assert row["findings"] is None
        assert row["counts_by_severity"] is None
    assert "Not compared:" in run.stdout
    assert f"  docker-archive:{tmp_path}/missing.tar: no such file" in run.stdout
    assert f"  broken: {broken}: Results: expected an array, got a number" in run.stdout
    assert run.stderr == ""


def test_reports_already_written_are_rows_too(
    compare: Any, family_archives: FamilyArchives, trivy_bin: Path, trivy_db: Path, tmp_path: Path
) -> None:
    report = scan_image(trivy_bin, trivy_db, ["--input", str(family_archives.paths["slim"])])
    path = tmp_path / "slim.json"
    path.write_text(json.dumps(report))
    run = compare(f"slim from CI={path}", f"docker-archive:{family_archives.paths['slim']}")
    assert run.code == ExitCode.PASS, run.stderr
    from_report, scanned = run.json["images"]
    assert from_report["reference"] == "slim from CI"
    # Same findings either way; a report written without --list-all-pkgs does not count packages.
    assert (
        from_report["counts_by_severity"]
        == scanned["counts_by_severity"]
        == dict(EXPECTED["slim"].counts_by_severity)
    )
    assert (from_report["packages"], scanned["packages"]) == (None, EXPECTED["slim"].packages)


@pytest.mark.parametrize(
    "refs",
    [["a=one.json", "a=two.json"], ["alpine:3.19", "alpine:3.19"], ["one.json", "one.json=two.json"]],
    ids=["named-twice", "image-twice", "name-of-an-image"],
)
def test_two_rows_with_one_name_are_a_usage_error(
    refs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Rows are told apart by name only, in the table and in the JSON document.
    with pytest.raises(SystemExit) as exited:
        main(["compare", *refs])
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert "error: two rows are named " in line


@pytest.mark.parametrize("platform", [True, False])
def test_platform_beside_reports_is_a_warning_naming_them(
    platform: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    # A report is read as its scanner wrote it: the row's platform is the report's, not --platform's.
    report = corpus_file("trivy", "alpine-310.json.golden")
    args = ["--platform", "linux/arm64"] if platform else []
    assert main(["compare", f"a={report}", f"b={report}", *args]) == ExitCode.PASS
    err = capsys.readouterr().err
    warning = (
        "container-gate: warning: --platform is for the images compare scans, not the reports it "
        "reads (a, b): not used for them\n"
    )
    assert err == (warning if platform else "")


def test_a_decision_report_keeps_the_images_creation_time_for_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The decision report kept no `image.created`: its row said CREATED `-`, the report's a date.
    report = corpus_file("trivy", "alpine-310.json.golden")
    decision = tmp_path / "gate.json"
    assert main(["check", str(report), "--ci", "none", "-q", "--json", str(decision)]) == ExitCode.PASS
    created = "2019-08-20T20:19:55.211423266Z"  # the report's Metadata.ImageConfig.created
    assert json.loads(decision.read_text())["image"]["created"] == created
    out = tmp_path / "compare.json"
    assert main(["compare", f"report={report}", f"decision={decision}", "--json", str(out)]) == ExitCode.PASS
    rows = json.loads(out.read_text())["images"]
    assert [row["created"] for row in rows] == [created, created]
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in table if line.lstrip().startswith(("report ", "decision "))] == [
        "2019-08-20",
        "2019-08-20",
    ]


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        ([], None),
        (["--scanner", "grype"], "--scanner is"),
        (
            ["--db-repository", "mirror.example/trivy-db", "--skip-db-update"],
            "--skip-db-update, --db-repository are",
        ),
    ],
)
def test_scanner_options_beside_reports_only_are_a_warning(
    args: list[str], flags: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every row is a report: no scanner runs, so its options change nothing.
    report = corpus_file("trivy", "alpine-310.json.golden")
    assert main(["compare", f"a={report}", f"b={report}", *args]) == ExitCode.PASS
    err = capsys.readouterr().err
    warning = (
        f"container-gate: warning: {flags} for the images compare scans, and every row is a report it "
        "reads (NAME=REPORT.json): not used\n"
    )
    assert err == (warning if flags else "")


def push_family(archives: FamilyArchives, registry: Registry) -> dict[str, int]:
    """The family pushed as `family/<name>:1` (OCI manifests, gzip layers); each manifest's layer sizes."""
    pusher = Pusher(registry.address)
    sizes = {}
    for name in FAMILY:
        config, layers = read_docker_archive(archives.paths[name])
        image = oci_image(config, layers)
        pusher.image(f"family/{name}", "1", image)
        sizes[name] = sum(len(layer) for layer in image.layers)
    return sizes


def test_the_size_is_the_compressed_size_from_the_manifest(
    compare: Any, family_archives: FamilyArchives, registry: Registry
) -> None:
    sizes = push_family(family_archives, registry)
    run = compare(*(f"docker://{registry.address}/family/{name}:1" for name in FAMILY))
    assert run.code == ExitCode.PASS, run.stderr
    assert [row["size_bytes"] for row in run.json["images"]] == [sizes[name] for name in FAMILY]
    assert_family_rows(run.json["images"], list(FAMILY))


def test_a_policy_applies_to_every_image(
    compare: Any, family_archives: FamilyArchives, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on:\n  severity: MEDIUM\n")
    run = compare(
        *(f"docker-archive:{family_archives.paths[n]}" for n in FAMILY), args=("--policy", str(policy))
    )
    assert run.code == ExitCode.PASS
    assert run.json["policy"] == str(policy)
    blocking = [row["blocking"] for row in run.json["images"]]
    medium_up = [sum(EXPECTED[n].counts_by_severity[s] for s in SEVERITIES[:3]) for n in FAMILY]
    assert blocking == medium_up
    assert [row["verdict"] for row in run.json["images"]] == ["fail", "fail", "fail", "fail", "pass"]


# --- progress and concurrency --------------------------------------------------------------------


class Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_is_shown_on_a_terminal_only(
    compare: Any, family_archives: FamilyArchives, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = [f"docker-archive:{family_archives.paths[n]}" for n in ("alpine", "scratch")]
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")  # one that redraws a line
    run = compare(*refs)
    assert run.code == ExitCode.PASS
    shown = terminal.getvalue()
    for ref in refs:
        assert re.search(rf"scanned {re.escape(ref)} \(\d+\.\d s\)\n", shown), shown
    assert "[2/2 done]" in shown
    assert shown.endswith("\r\x1b[K")  # the status line is cleared at the end
    assert "scanned" not in run.stdout


def options(trivy_bin: Path, cache: Path, skip_db_update: bool) -> ScanOptions:
    return ScanOptions(
        env={"PATH": "/usr/bin:/bin"},
        now=dt.datetime.now(dt.UTC),
        cache_dir=cache,
        skip_db_update=skip_db_update,
        trivy_bin=str(trivy_bin),
        max_db_age=dt.timedelta(days=100000),
    )


def test_at_most_jobs_scans_run_at_once(
    trivy_bin: Path, trivy_db: Path, family_archives: FamilyArchives
) -> None:
    items = [BatchItem(n, image=f"docker-archive:{family_archives.paths[n]}") for n in FAMILY]
    running, most = 0, 0
    events: list[tuple[int, Progress]] = []
    lock = threading.Lock()

    def seen(index: int, what: Progress) -> None:
        nonlocal running, most
        with lock:
            events.append((index, what))
            running += 1 if what is Progress.STARTED else -1
            most = max(most, running)

    results = scan_batch(
        items, ScannerChoice.TRIVY, options(trivy_bin, trivy_db, True), jobs=2, progress=seen
    )
    assert [r.item.name for r in results] == list(FAMILY)
    assert all(r.error is None for r in results)
    assert most <= 2
    assert sorted(events, key=str) == sorted(
        [(i, Progress.STARTED) for i in range(5)] + [(i, Progress.DONE) for i in range(5)], key=str
    )


def test_when_the_db_may_be_updated_the_first_scan_runs_alone(
    trivy_bin: Path, trivy_db: Path, family_archives: FamilyArchives
) -> None:
    # The test bed's DB says its next update is far away: Trivy checks it and downloads nothing.
    items = [BatchItem(n, image=f"docker-archive:{family_archives.paths[n]}") for n in FAMILY]
    events: list[tuple[int, Progress]] = []
    results = scan_batch(
        items,
        ScannerChoice.TRIVY,
        options(trivy_bin, trivy_db, False),
        jobs=4,
        progress=lambda i, what: events.append((i, what)),
    )
    assert all(r.error is None for r in results)
    # The first one fetched or refreshed the DB before any other started: none raced to update it.
    assert events[:2] == [(0, Progress.STARTED), (0, Progress.DONE)]
    assert [r.report.package_count for r in results if r.report] == [EXPECTED[n].packages for n in FAMILY]


# --- usage ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: REF"),
        (["a:1", "--jobs", "0"], "argument --jobs: expected a whole number from 1 to 64, got '0'"),
        (["=report.json"], "argument REF: expected NAME=REPORT.json (a name for the row, then a scanner's JSON report), got '=report.json'"),
        (["name="], "argument REF: expected NAME=REPORT.json"),
    ],
)  # fmt: skip
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["compare", *args])
    assert exited.value.code == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_a_broken_policy_fails_before_any_scan(compare: Any, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_onn: {}\n")
    run = compare("docker-archive:/nonexistent.tar", args=("--policy", str(policy)))
    assert run.code == ExitCode.USAGE
    assert "fail_onn" in run.stderr
    assert run.json == {}
    assert run.stdout == ""


# --- the documented example ----------------------------------------------------------------------

DOC = PROJECT_ROOT / "docs" / "compare.md"


def documented_table() -> list[list[str]]:
    """The rows of the example terminal table in docs/compare.md, as cells."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- example-output -->\n```\n", 1)[1].split("```", 1)[0]
    return [re.split(r"\s{2,}", line.strip()) for line in block.splitlines()[1:7]]


def test_the_documented_example_is_the_real_output(
    trivy_bin: Path,
    trivy_db: Path,
    family_archives: FamilyArchives,
    registry: Registry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    push_family(family_archives, registry)
    refs = [f"docker://{registry.address}/family/{name}:1" for name in FAMILY]
    code = main(
        ["compare", *refs, "--trivy-bin", str(trivy_bin), "--cache-dir", str(trivy_db), "--skip-db-update"]
    )
    assert code == ExitCode.PASS
    # The registry's port is chosen per run; the document says 5000.
    real = capsys.readouterr().out.replace(registry.address, "127.0.0.1:5000")
    rows = [re.split(r"\s{2,}", line.strip()) for line in real.splitlines()[1:7]]
    documented = documented_table()
    message = f"docs/compare.md's example differs from the real output:\n{real}"
    assert [len(row) for row in documented] == [len(row) for row in rows], message
    # The scratch image's one binary is the machine's static busybox, whose size varies.
    size = rows[0].index("SIZE")
    rows[-1][size] = documented[-1][size] = "(busybox)"
    assert rows == documented, message


def test_a_report_over_max_report_size_is_a_row_with_its_error_and_is_not_read(compare: Any) -> None:
    small = corpus_file("trivy", "alpine-39.json.golden")
    size = small.stat().st_size
    run = compare(f"fits={small}", f"big={small}", args=("--max-report-size", str(size)))
    assert run.code == ExitCode.PASS, run.stderr
    run = compare(f"big={small}", args=("--max-report-size", str(size - 1)))
    assert run.code == ExitCode.ERROR
    (row,) = run.json["images"]
    assert row["error"] == (
        f"{small}: the report is {size:,} bytes, more than --max-report-size ({size - 1:,} bytes); not read"
        " (raise --max-report-size to read it)"
    )


# --- no earlier table left behind ----------------------------------------------------------------

BUSTER = corpus_file("trivy", "debian-buster.json.golden")


def test_the_help_says_where_the_findings_new_since_an_earlier_report_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Its example compares before=report-1.json and after=report-2.json, and the rows only count:
    # nothing said which findings the later one added, fixed or made worse, nor where to look.
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "check LATER.json --baseline EARLIER-DECISION.json" in shown


def test_the_help_says_an_unreadable_data_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # A VEX, KEV or EPSS file that cannot be read stops compare with exit 2 (below); its help
    # named only a usage error, an invalid policy and an output file.
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "2 for a usage error, an invalid policy, a VEX, KEV or EPSS file that cannot be read" in shown


@pytest.mark.parametrize(
    "args",
    [
        ["--policy", "{dir}/policy.yaml"],
        ["--kev", "{dir}/empty"],
        ["--epss", "{dir}/empty"],
        ["--vex", "{dir}/empty"],
        ["--as-of", "2026-13-01"],
    ],
    ids=["broken-policy", "broken-kev", "broken-epss", "broken-vex", "usage-error"],
)
def test_an_error_leaves_no_earlier_table_behind(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # compare's documents have no error form: a later step would publish the earlier comparison.
    (tmp_path / "policy.yaml").write_text("version: 1\nfail_onn: {}\n", encoding="utf-8")
    (tmp_path / "empty").write_bytes(b"")
    out_json, out_md = tmp_path / "compare.json", tmp_path / "compare.md"
    out_json.write_text('{"images": ["from an earlier run"]}', encoding="utf-8")
    out_md.write_text("from an earlier run\n", encoding="utf-8")
    argv = ["compare", f"buster={BUSTER}", *(arg.format(dir=tmp_path) for arg in args)]
    try:
        code = main([*argv, "--json", str(out_json), "--markdown", str(out_md)])
    except SystemExit as exited:
        code = int(str(exited.code))
    assert code == ExitCode.USAGE
    assert "error: " in capsys.readouterr().err
    assert not out_json.exists()
    assert not out_md.exists()


@pytest.mark.parametrize("terminal", [True, False])
def test_a_report_on_standard_input_is_a_row(
    terminal: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # NAME=- reads the report from standard input, as `check -` does; it was refused.
    report = corpus_file("trivy", "alpine-310.json.golden")
    monkeypatch.setattr(sys, "stdin", Terminal() if terminal else io.StringIO())
    out = tmp_path / "compare.json"
    with standard_input(report):
        assert main(["compare", "piped=-", f"file={report}", "--json", str(out)]) == ExitCode.PASS
    piped, from_file = json.loads(out.read_text())["images"]
    assert (piped["reference"], from_file["reference"]) == ("piped", "file")
    assert {k: v for k, v in piped.items() if k not in ("reference", "warnings")} == {
        k: v for k, v in from_file.items() if k not in ("reference", "warnings")
    }
    # A warning names the report as the reader does: "standard input", or the file.
    assert piped["warnings"] == [w.replace(str(report), "standard input") for w in from_file["warnings"]]
    prompt = "container-gate: reading the report from standard input (end with Ctrl-D)...\n"
    assert capsys.readouterr().err == (prompt if terminal else "")


def test_standard_input_is_read_by_one_row_at_most(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["compare", "a=-", "b=-"])
    assert exited.value.code == ExitCode.USAGE
    (line,) = capsys.readouterr().err.splitlines()
    assert "error: standard input holds one report, and rows 'a' and 'b' both read it" in line


@pytest.mark.parametrize("terminal", [True, False])
def test_the_table_fits_a_terminal_and_is_whole_elsewhere(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal's width (here the default 100 columns of one that reports no size); a pipe, a
    # file or a CI log gets every column whatever its width.
    stdout = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.delenv("COLUMNS", raising=False)
    reports = [corpus_file("trivy", name) for name in ("alpine-310.json.golden", "debian-buster.json.golden")]
    refs = [f"a-rather-long-name-for-a-candidate-base-image-{n}={path}" for n, path in enumerate(reports)]
    assert main(["compare", *refs]) == ExitCode.PASS
    out = stdout.getvalue()
    # A path longer than a line (the reports' warnings name theirs) is kept whole on its own.
    widest = max(len(line) for line in out.splitlines() if len(line.split()) > 1)
    if terminal:
        assert widest <= 100, out
        assert "Left out for the terminal's width: " in out
    else:
        assert widest > 100
        assert "Left out" not in out
        assert out.splitlines()[1].split()[-1] == "CREATED"


def test_a_terminal_wider_than_the_summarys_bound_gets_every_column_that_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The table was fitted to the summary's bound (160 columns): on a terminal 200 wide, a table
    # of 161 columns lost CREATED, "for the terminal's width".
    monkeypatch.delenv("COLUMNS", raising=False)
    reports = [corpus_file("trivy", name) for name in ("alpine-310.json.golden", "debian-buster.json.golden")]
    refs = [f"a-rather-long-name-for-a-candidate-base-image-{n}={path}" for n, path in enumerate(reports)]
    with terminal(200) as (controller, stream):
        monkeypatch.setattr(sys, "stdout", stream)
        assert main(["compare", *refs]) == ExitCode.PASS
        stream.flush()
        lines = shown(controller)
    assert max(len(line) for line in lines) > 160
    assert not [line for line in lines if "Left out" in line]
    assert lines[1].split()[-1] == "CREATED"


def test_a_name_or_path_that_is_not_utf8_is_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A byte of the command line that is not UTF-8 (a name in Latin-1) reaches Python as a lone
    # surrogate: writing --json or --markdown stopped with an internal error.
    report = corpus_file("trivy", "alpine-310.json.golden")
    table, markdown = tmp_path / "compare.json", tmp_path / "compare.md"
    refs = ["caf\udce9=" + str(report), f"gone={tmp_path}/caf\udce9.json"]
    code = main(["compare", *refs, "--json", str(table), "--markdown", str(markdown)])
    assert code == ExitCode.ERROR  # the missing report's row
    rows = json.loads(table.read_text(encoding="utf-8"))["images"]
    assert [row["reference"] for row in rows] == ["caf\udce9", "gone"]
    assert rows[0]["verdict"] == "pass"
    assert "\\udce9" in markdown.read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "caf\\udce9  " in out
    assert f"gone: {tmp_path}/caf\\udce9.json: no such report file" in out
