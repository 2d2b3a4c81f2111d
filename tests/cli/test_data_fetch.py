"""`container-gate data fetch --out DIR` against a local HTTP server on 127.0.0.1 serving the real KEV
catalog and EPSS excerpt: what it stores and prints, `--if-older-than`, and how each failed download
is an exit 3 that leaves the stored data as it was. Then `check` reads what it stored."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.cli import main as cli
from gate.cli.data_fetch import _kept
from gate.enrich.fetch import RECORD_NAME
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS, GITLAB_WORDS
from tests.support.corpus import corpus_file
from tests.support.data_server import DataServer, Reply, running_server, unused_url
from tests.support.repo_paths import PROJECT_ROOT

KEV_BYTES = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
EPSS_GZ = corpus_file("epss", "excerpt.csv.gz").read_bytes()
KEV_PATH = "/feeds/known_exploited_vulnerabilities.json"
EPSS_PATH = "/epss_scores-current.csv.gz"


@pytest.fixture
def server() -> Iterator[DataServer]:
    yield from running_server()


def fetch(server: DataServer, out: Path, *more: str) -> list[str]:
    return [
        "data",
        "fetch",
        "--out",
        str(out),
        "--kev-url",
        server.url(KEV_PATH),
        "--epss-url",
        server.url(EPSS_PATH),
        "--retries",
        "0",
        *more,
    ]


def serve_good(server: DataServer) -> None:
    server.serve(KEV_PATH, Reply(200, KEV_BYTES, "application/json"))
    server.serve(EPSS_PATH, Reply(200, EPSS_GZ, "application/gzip"))


def record_fetched(out: Path, since_now: dt.timedelta) -> str:
    """Rewrite the fetch record of `out` as made `since_now` from now; the time written."""
    record_path = out / RECORD_NAME
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["fetched_at"] = (dt.datetime.now(dt.UTC) + since_now).isoformat().replace("+00:00", "Z")
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return str(record["fetched_at"])


def test_fetch_stores_both_files_and_the_record_then_check_reads_them(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    printed = capsys.readouterr().out
    assert "KEV catalog 2026.08.07 (released 2026-08-07)" in printed
    assert "EPSS scores v2026.06.15 (scored 2026-09-29)" in printed
    assert (out / "kev.json").read_bytes() == KEV_BYTES
    assert (out / "epss.csv.gz").read_bytes() == EPSS_GZ
    record = json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))
    assert record["kev"]["catalog_version"] == "2026.08.07"
    assert record["epss"]["score_date"] == "2026-09-29T12:00:22Z"
    # What `data fetch` stored is what `check` reads.
    spring = corpus_file("trivy", "spring4shell-jre11.json.golden")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nfail_on: {severity: CRITICAL, known_exploited: true}\n", encoding="utf-8")
    argv = ["check", str(spring), "--policy", str(policy), "--ci", "none", "--as-of", "2026-09-30"]
    argv += ["--kev", str(out / "kev.json"), "--epss", str(out / "epss.csv.gz")]
    assert cli.main(argv) == 1
    assert "1 known-exploited" in capsys.readouterr().out


def test_if_older_than_keeps_a_recent_fetch_and_refreshes_an_old_one(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    capsys.readouterr()
    assert cli.main(fetch(server, out, "--if-older-than", "20")) == 0
    assert "hours ago (--if-older-than 20): kept" in capsys.readouterr().out
    assert server.asked(KEV_PATH) == 1
    # A record of yesterday's fetch (a CI cache restored from the day before) is refreshed.
    record_fetched(out, dt.timedelta(hours=-26))
    assert cli.main(fetch(server, out, "--if-older-than", "20")) == 0
    assert server.asked(KEV_PATH) == 2
    # A record whose files are gone vouches for nothing.
    os.remove(out / "kev.json")
    assert cli.main(fetch(server, out, "--if-older-than", "20")) == 0
    assert server.asked(KEV_PATH) == 3


def test_a_kept_fetch_is_said_in_the_words_the_run_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    # The run's words are chosen once (run_by.run_wording); the line reads no environment itself.
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    out = Path("cache/exploit-data")
    assert _kept(out, 2.04, 20, ACTION_WORDS) == (
        "input `exploit-data`: the KEV and EPSS data in cache/exploit-data were fetched 2.0 hours ago: "
        "kept (the action downloads them again once 20 hours old)"
    )
    said = f"{out / RECORD_NAME}: fetched 2.0 hours ago (--if-older-than 20): kept"
    # The GitLab job's own script line shows the --if-older-than it runs with.
    assert _kept(out, 2.04, 20, COMMAND_LINE_WORDS) == said
    assert _kept(out, 2.04, 20, GITLAB_WORDS) == said


def test_if_older_than_refreshes_a_fetch_recorded_after_the_clock(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A cache saved by a runner whose clock ran ahead: "fetched -79471.0 hours ago: kept", and
    # the data was never fetched again, however old it grew.
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    ahead = record_fetched(out, dt.timedelta(hours=1))
    capsys.readouterr()
    assert cli.main(fetch(server, out, "--if-older-than", "20")) == 0
    assert "kept" not in capsys.readouterr().out
    assert server.asked(KEV_PATH) == 2
    assert json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))["fetched_at"] != ahead


@pytest.mark.parametrize(
    ("kev_reply", "said"),
    [
        (Reply(503, b"busy", "text/plain"), "503"),
        (Reply(200, b"<html>login</html>", "text/html"), "text/html"),
        (Reply(200, KEV_BYTES[:1000], "application/json", length=len(KEV_BYTES)), "truncated"),
        (Reply(200, KEV_BYTES[:-200], "application/json"), "not valid"),
    ],
    ids=["5xx", "wrong-content-type", "truncated-body", "cut-json"],
)
def test_a_failed_download_is_exit_3_and_leaves_the_stored_data(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], kev_reply: Reply, said: str
) -> None:
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    capsys.readouterr()
    server.serve(KEV_PATH, kev_reply)
    assert cli.main(fetch(server, out)) == 3
    err = capsys.readouterr().err
    # The test server's thread may log a connection the gate closed early; the gate says one line.
    (line,) = [text for text in err.splitlines() if text.startswith("container-gate")]
    assert line.startswith("container-gate: error: ")
    assert server.url(KEV_PATH) in line
    assert said in line
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["data", "fetch"], "the following arguments are required: --out"),
        (["data", "fetch", "--out", ""], "argument --out: expected a directory, got nothing"),
        (["data", "fetch", "--out= "], "argument --out: expected a directory, got nothing"),
        (["data", "fetch", "--out", "d", "--if-older-than", "soon"], "expected a number of hours"),
        (["data", "fetch", "--out", "d", "--retries", "-1"], "expected a number of retries"),
        (["data", "fetch", "--out", "d", "--timeout", "0"], "expected a number of seconds"),
    ],
)
def test_usage_errors_are_exit_2(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err


def test_a_url_that_is_not_http_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["data", "fetch", "--out", str(tmp_path), "--kev-url", "file:///etc/passwd"])
    assert code == 2
    assert "file:///etc/passwd: expected an http(s) URL" in capsys.readouterr().err


def test_credentials_in_a_mirror_url_never_reach_the_output_or_the_record(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_good(server)
    out = tmp_path / "data"
    argv = fetch(server, out)
    argv[argv.index("--kev-url") + 1] = server.url(KEV_PATH).replace("http://", "http://user:SECRETPW@")
    assert cli.main([*argv, "--verbose"]) == 0
    printed = capsys.readouterr()
    assert "SECRETPW" not in printed.out + printed.err
    assert "SECRETPW" not in (out / RECORD_NAME).read_text(encoding="utf-8")
    assert json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))["kev"]["url"].startswith("http://***@")


def test_a_failed_fetch_names_the_mirror_with_its_credentials_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = unused_url("/k?token=T0KEN").replace("http://", "http://user:SECRETPW@")
    argv = ["data", "fetch", "--out", str(tmp_path), "--kev-url", url, "--retries", "0", "--verbose"]
    assert cli.main(argv) == 3
    err = capsys.readouterr().err
    (line,) = [text for text in err.splitlines() if text.startswith("container-gate")]
    assert line.startswith("container-gate: error: http://***@127.0.0.1:")
    assert "/k?token=***: cannot connect (" in line
    assert "SECRETPW" not in err
    assert "T0KEN" not in err


def test_a_failed_fetch_into_a_new_directory_leaves_none_behind(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve(KEV_PATH, Reply(503, b"busy", "text/plain"))
    assert cli.main(fetch(server, tmp_path / "cache" / "data")) == 3
    assert "503" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_fetch_in_the_other_form_leaves_no_earlier_file_of_the_first(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A mirror serving the plain CSV after FIRST's gzip was fetched: the earlier epss.csv.gz stayed
    # beside the new epss.csv, and `--epss DIR/epss.csv.gz` (or the GitLab template's `epss.csv*`,
    # whose last match wins) went on reading it, however old.
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    assert {path.name for path in out.iterdir()} == {RECORD_NAME, "epss.csv.gz", "kev.json"}
    plain = corpus_file("epss", "excerpt.csv").read_bytes()
    server.serve(EPSS_PATH, Reply(200, plain, "text/plain"))
    assert cli.main(fetch(server, out)) == 0
    assert {path.name for path in out.iterdir()} == {RECORD_NAME, "epss.csv", "kev.json"}
    assert (out / "epss.csv").read_bytes() == plain
    capsys.readouterr()


def test_an_out_that_is_a_file_is_a_usage_error_before_any_download(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It was exit 3, "cannot create the directory (File exists)": a download error it was not.
    serve_good(server)
    file = tmp_path / "kev.json"
    file.write_text("{}", encoding="utf-8")
    assert cli.main(fetch(server, file)) == 2
    assert capsys.readouterr().err == f"container-gate: error: {file}: --out needs a directory, not a file\n"
    assert cli.main(fetch(server, file / "data")) == 2
    assert capsys.readouterr().err == (
        f"container-gate: error: {file / 'data'}: --out needs a directory, not a file ({file} is one)\n"
    )
    assert server.asked(KEV_PATH) == 0
    assert file.read_text(encoding="utf-8") == "{}"


def test_an_out_named_dash_is_named_as_given(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `./-`, which `Path` reads as `-`: a message naming `-` would read as standard input.
    serve_good(server)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text("{}", encoding="utf-8")
    argv = fetch(server, tmp_path)
    argv[argv.index(str(tmp_path))] = "./-"
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == "container-gate: error: ./-: --out needs a directory, not a file\n"
    argv[argv.index("./-")] = "./-/data"
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        "container-gate: error: -/data: --out needs a directory, not a file (./- is one)\n"
    )


@pytest.mark.parametrize(
    ("module", "error"),
    [
        ("gate.enrich._download", OSError(errno.EROFS, "Read-only file system")),
        ("gate.enrich.fetch", OSError(errno.ENOSPC, "No space left on device")),
    ],
    ids=["read-only at the first download", "full at the record"],
)
def test_an_out_that_cannot_be_written_is_one_line_naming_it(
    server: DataServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    error: OSError,
) -> None:
    # A cache restored read-only (or a full disk) was "internal error: OSError: [Errno 30]
    # Read-only file system: '.../.kev.json.<random>.part'": a hidden file name and a hint at a bug.
    serve_good(server)
    out = tmp_path / "data"
    assert cli.main(fetch(server, out)) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    capsys.readouterr()

    def cannot_write(target: Path) -> tuple[Path, int]:
        error.filename = str(target.with_name(f".{target.name}.0123456789ab.part"))
        raise error

    monkeypatch.setattr(f"{module}.open_part", cannot_write)
    assert cli.main(fetch(server, out)) == 3
    # The test server's thread may log the connection the gate closed early; the gate says one line.
    err = capsys.readouterr().err
    (line,) = [text for text in err.splitlines() if text.startswith("container-gate")]
    assert line == f"container-gate: error: {out}: cannot write the downloaded data ({error.strerror})"
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


# The KEV download of a run that is killed meanwhile: part of the catalog, then nothing more.
KEV_STALLED = Reply(200, KEV_BYTES[:100_000], "application/json", length=len(KEV_BYTES), stall=True)


def fetching(server: DataServer, out: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`container-gate data fetch` in the middle of downloading the KEV catalog into `out`, and
    its temporary file."""
    before = set(out.glob(".*.part"))
    run = subprocess.Popen(
        [sys.executable, "-m", "gate", *fetch(server, out)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (started := set(out.glob(".*.part")) - before):
        assert run.poll() is None, "the fetch ended before it downloaded"
        assert time.monotonic() < deadline, "the fetch never started its download"
        time.sleep(0.05)
    (part,) = started
    return run, part


def test_the_temporary_files_of_a_killed_fetch_are_removed_by_the_next_one(
    server: DataServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SIGKILL (a runner's timeout) left `.download-*.part` files behind, each under a name of its
    # own; in a CI cache they piled up from one pipeline to the next.
    out = tmp_path / "data"
    out.mkdir()
    server.serve(KEV_PATH, KEV_STALLED)
    server.serve(EPSS_PATH, Reply(200, EPSS_GZ, "application/gzip"))
    killed = []
    for _killed in range(2):
        run, part = fetching(server, out)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        assert part.exists()
        killed.append(part)
    # The record's temporary file of a fetch killed while writing it: no process holds it.
    record_part = out / ".exploit-data.json.0123456789ab.part"
    record_part.write_text("{", encoding="utf-8")
    live, writing = fetching(server, out)  # another fetch, still downloading
    try:
        theirs = [
            out / ".kev.json.0123456789AB.part",  # not the gate's naming
            out / ".kev.json.0123456789ab.part.bak",
            out / ".other.json.0123456789ab.part",
            out / "notes.txt",
        ]
        for path in theirs:
            path.write_text("someone else's", encoding="utf-8")
        planted = out / ".epss.csv.aaaaaaaaaaaa.part"
        planted.symlink_to(theirs[0])
        serve_good(server)
        assert cli.main(fetch(server, out)) == 0
        assert not [path for path in [*killed, record_part] if path.exists()]
        assert writing.exists()  # the live fetch's own
        assert planted.is_symlink()
        assert all(path.read_text(encoding="utf-8") == "someone else's" for path in theirs)
        assert (out / "kev.json").read_bytes() == KEV_BYTES
        names = {path.name for path in out.iterdir()} - {path.name for path in [*theirs, planted, writing]}
        assert names == {RECORD_NAME, "epss.csv.gz", "kev.json"}
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait(timeout=30)
    capsys.readouterr()
