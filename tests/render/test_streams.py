"""The large outputs are written as streams of chunks, and say exactly what one whole document would.

The SARIF and GitLab reports used to be `json.dumps(doc, indent=2, ensure_ascii=False)` of one
document, and the JUnit report `ET.indent` and `ET.tostring` of one tree. Each streamed output must
be that text byte for byte: re-encoding what it decodes to gives it back unchanged.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.cli.outputs import write_text
from gate.errors import GateError, UsageError
from gate.model import Cvss, Severity
from gate.policy.evaluation import Evaluation
from gate.render import _sarif_results as sarif_results
from gate.render._json_text import Skeleton, indented, plain_float
from gate.render.gitlab import GitLabReportOptions, gitlab_chunks, render_gitlab
from gate.render.json import json_chunks, render_json
from gate.render.junit import escape_attribute, escape_text, junit_chunks, render_junit
from gate.render.sarif import SarifOptions, _Gzipped, gzip_size, render_sarif, sarif_chunks
from tests.support.corpus import corpus_evaluation, corpus_reports
from tests.support.factories import NOW, evaluation_of, finding
from tests.support.repo_paths import PROJECT_ROOT

HOSTILE = 'x"\n  "verdict": "pass",\u2028\x00\t\r</testcase><![CDATA[&amp;\u00e9\u4e00\U0001f600 0.00001'
GITLAB = GitLabReportOptions(start_time=NOW, end_time=NOW)


def hostile_evaluation() -> Evaluation:
    return evaluation_of(
        finding(pkg=HOSTILE, title=HOSTILE, description=HOSTILE + "\n\n" + HOSTILE, cvss=9.8),
        finding("CVE-2024-0002", pkg="b", severity=Severity.LOW, fixed=()),
        finding("CVE-2024-0003", pkg="c", path=HOSTILE, cvss=0.1),
    )


def evaluations() -> list[Evaluation]:
    return [hostile_evaluation(), evaluation_of(), *(corpus_evaluation(p) for p in corpus_reports()[:6])]


def as_json_dumps_writes_it(text: str) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def as_element_tree_writes_it(text: str) -> str:
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


@pytest.mark.parametrize(
    "evaluation", evaluations(), ids=lambda e: e.report.sources[0] if e.report.sources else "-"
)
def test_streamed_outputs_are_the_whole_documents_byte_for_byte(evaluation: Evaluation) -> None:
    sarif = b"".join(sarif_chunks(evaluation, SarifOptions(tool_version="1.0.0"))).decode()
    assert sarif == render_sarif(evaluation, SarifOptions(tool_version="1.0.0"))
    assert sarif == as_json_dumps_writes_it(sarif)
    gitlab = b"".join(gitlab_chunks(evaluation, GITLAB)).decode()
    assert gitlab == render_gitlab(evaluation, GITLAB) == as_json_dumps_writes_it(gitlab)
    junit = b"".join(junit_chunks(evaluation)).decode()
    assert junit == render_junit(evaluation) == as_element_tree_writes_it(junit)
    decision = b"".join(json_chunks(evaluation)).decode()
    assert decision == render_json(evaluation)
    assert json.loads(decision)["counts"] == evaluation.counts.as_dict()


def test_the_hostile_text_arrives_whole_in_every_output() -> None:
    evaluation = hostile_evaluation()
    sarif = json.loads(render_sarif(evaluation))
    assert sarif["runs"][0]["results"][0]["properties"]["package"] == HOSTILE
    gitlab = json.loads(render_gitlab(evaluation, GITLAB))
    # All but the NUL, which GitLab's database cannot store.
    assert gitlab["vulnerabilities"][0]["location"]["dependency"]["package"]["name"] == HOSTILE.replace(
        "\x00", ""
    )
    assert json.loads(render_json(evaluation))["findings"][0]["package"] == HOSTILE


def test_the_decision_report_streams_in_batches_and_reads_back_whole() -> None:
    many = [finding(f"CVE-2024-{n:04d}", pkg=f"p{n}") for n in range(1, 1203)]
    evaluation = evaluation_of(*many)
    chunks = list(json_chunks(evaluation))
    assert len(chunks) > 3  # findings and actions come 500 at a time
    doc = json.loads(b"".join(chunks))
    assert [f["vulnerability_id"] for f in doc["findings"]] == [f.vulnerability_id for f in many]
    junit = list(junit_chunks(evaluation))
    assert len(junit) > 3
    assert len(ET.fromstring(b"".join(junit)).findall(".//testcase")) == len(many)  # noqa: S314


def test_the_sarif_size_is_counted_as_the_chunks_are_made() -> None:
    evaluation = hostile_evaluation()
    text = render_sarif(evaluation)
    assert gzip_size(text) < 10_000_000
    just_fits = SarifOptions(limits=type(SarifOptions().limits)(max_gzip_bytes=gzip_size(text)))
    assert render_sarif(evaluation, just_fits) == text
    one_byte_less = SarifOptions(limits=type(SarifOptions().limits)(max_gzip_bytes=gzip_size(text) - 1))
    assert len(json.loads(render_sarif(evaluation, one_byte_less))["runs"][0]["results"]) < 3


def test_the_sarif_size_counted_in_batches_on_a_thread_is_gzips_size_of_the_whole() -> None:
    # Several batches of about a megabyte, cut at odd places, of text that compresses unevenly.
    rng = random.Random(8)  # noqa: S311 - reproducible test text, not secrets
    text = "".join(
        f'{{"ruleId": "CVE-2024-{n}", "text": "{rng.choice(["a" * 300, HOSTILE, str(rng.random())])}"}},\n'
        for n in range(40_000)
    ).encode("utf-8")
    assert len(text) > 3 * (1 << 20)
    gzipped, at = _Gzipped(), 0
    while at < len(text):
        step = rng.randrange(1, 5000)
        assert gzipped.add(text[at : at + step]) == text[at : at + step]
        at += step
    assert gzipped.close() == gzip_size(text.decode("utf-8"))
    assert not [t for t in threading.enumerate() if t.name == "sarif-gzip-size"]


class _FailingDeflate:
    """A deflate that fails, as zlib does when memory runs out."""

    def compress(self, _data: bytes) -> bytes:
        raise MemoryError


def test_a_deflate_that_fails_on_its_thread_fails_the_sarif_and_blocks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(zlib, "compressobj", lambda *_args: _FailingDeflate())
    gzipped = _Gzipped()
    # More batches than the queue between the threads holds: `add` must not wait forever.
    worker = threading.Thread(target=lambda: [gzipped.add(b"x" * 100_000) for _ in range(200)])
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    with pytest.raises(MemoryError):
        gzipped.close()


def test_a_sarif_that_fails_while_it_is_made_leaves_no_thread_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    evaluation = evaluation_of(*(finding(f"CVE-2024-{n:04d}", pkg=f"p{n}") for n in range(1, 30)))

    def broken(*_args: object) -> None:
        raise GateError("cannot make this result")

    monkeypatch.setattr(sarif_results.Results, "result", broken)
    with pytest.raises(GateError, match="cannot make this result"):
        render_sarif(evaluation)
    assert not [t for t in threading.enumerate() if t.name == "sarif-gzip-size"]

    # When deflate failed too, the rendering's error is the one told.
    monkeypatch.setattr(zlib, "compressobj", lambda *_args: _FailingDeflate())
    monkeypatch.setattr(_Gzipped, "_BATCH", 1)
    with pytest.raises(GateError, match="cannot make this result"):
        render_sarif(evaluation)


# JSON values of every kind, floats of every size (orjson writes 1e-05 as 0.00001: the fallback
# must catch it), integers past 64 bits (orjson refuses them) and any text.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400)
@given(value=_JSON, level=st.integers(min_value=0, max_value=4))
def test_indented_is_what_json_dumps_writes(value: Any, level: int) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)
    assert indented(value, level) == text.encode("utf-8", "surrogatepass")


@settings(max_examples=200)
@given(items=st.lists(_JSON, max_size=5), other=_JSON)
def test_a_skeleton_with_its_lists_is_the_whole_document(items: list[Any], other: Any) -> None:
    skeleton = Skeleton()
    doc = {"before": other, "deep": {"list": skeleton.slot(), "after": [other]}, "tail": skeleton.slot()}
    text = b"".join(skeleton.chunks(doc, items, reversed(items)))
    whole = {"before": other, "deep": {"list": items, "after": [other]}, "tail": list(reversed(items))}
    assert text == (json.dumps(whole, indent=2, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("text", [HOSTILE, "", "a&b<c>d\"e'f\r\ng\th", "\u00e9&amp;"])
def test_junit_escaping_is_element_tree_s(text: str) -> None:
    element = ET.Element("e", {"a": text})
    element.text = text + "."  # an element without text is written as `<e ... />`
    assert (
        ET.tostring(element, encoding="unicode")
        == f'<e a="{escape_attribute(text)}">{escape_text(text)}.</e>'
    )


def test_a_stream_that_fails_midway_leaves_no_half_written_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"

    def chunks() -> Any:
        yield b"{"
        raise GateError("cannot finish")

    with pytest.raises(GateError):
        write_text(str(out), chunks())
    assert not out.exists()


def test_a_stream_that_fails_at_once_leaves_the_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("earlier", encoding="utf-8")

    def chunks() -> Any:
        raise GateError("cannot start")
        yield b""  # a generator

    with pytest.raises(GateError):
        write_text(str(out), chunks())
    assert out.read_text(encoding="utf-8") == "earlier"


def test_a_full_disk_leaves_no_temporary_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.json"

    class FullDisk(io.RawIOBase):
        """A file on a full disk: every write fails, so does each flush of what is buffered."""

        def __init__(self, descriptor: int) -> None:
            self.descriptor = descriptor

        def writable(self) -> bool:
            return True

        def write(self, _data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            if not self.closed:
                os.close(self.descriptor)
            super().close()

    monkeypatch.setattr(
        "gate.cli.outputs.open",
        lambda descriptor, _mode, buffering: io.BufferedWriter(FullDisk(descriptor), buffering),
        raising=False,
    )
    with pytest.raises(UsageError, match="cannot write output file: No space left on device"):
        write_text(str(out), iter([b"{", b"}"]))
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_stream_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot write output file"):
        write_text(str(blocker / "out.json"), iter([b"{}"]))


def test_a_reader_never_sees_a_half_written_output(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("earlier", encoding="utf-8")
    seen: list[str] = []

    def chunks() -> Any:
        yield b'{"verdict": '
        seen.append(out.read_text(encoding="utf-8"))  # what a later step reads meanwhile
        yield b'"pass"}'

    write_text(str(out), chunks())
    assert seen == ["earlier"]
    assert out.read_text(encoding="utf-8") == '{"verdict": "pass"}'
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]


def test_an_output_replaces_a_symbolic_link_instead_of_writing_where_it_points(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not the gate's", encoding="utf-8")
    out = tmp_path / "checkout" / "container-gate.sarif"
    out.parent.mkdir()
    out.symlink_to(elsewhere)  # planted in the checked-out repository
    write_text(str(out), "{}")
    assert elsewhere.read_text(encoding="utf-8") == "not the gate's"
    assert not out.is_symlink()
    assert out.read_text(encoding="utf-8") == "{}"


def test_a_named_pipe_is_written_in_place(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link"
    link.symlink_to(pipe)
    received: list[bytes] = []
    for path in (pipe, link):
        reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
        reader.start()
        write_text(str(path), "{}")
        reader.join(timeout=10)
    assert received == [b"{}", b"{}"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert link.is_symlink()


WRITING = """\
import sys, time
from gate.cli.outputs import write_text

def chunks():
    yield b'{"verdict": '
    time.sleep(60)  # killed meanwhile
    yield b'"pass"}'

write_text(sys.argv[1], chunks())
"""


def writing(out: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A run of the gate in the middle of writing `out`, and its temporary file."""
    before = set(out.parent.glob(f".{out.name}.*.part"))
    run = subprocess.Popen([sys.executable, "-c", WRITING, str(out)], cwd=PROJECT_ROOT)
    deadline = time.monotonic() + 30
    while not (started := set(out.parent.glob(f".{out.name}.*.part")) - before):
        assert run.poll() is None, "the writer ended before it wrote"
        assert time.monotonic() < deadline, "the writer never started"
        time.sleep(0.05)
    (part,) = started
    return run, part


def test_the_temporary_file_of_a_killed_run_is_removed_by_the_next_one(tmp_path: Path) -> None:
    # SIGKILL (a runner's timeout) leaves the temporary file; each run named its own, and they piled up.
    out = tmp_path / "report.json"
    for _killed in range(2):
        run, part = writing(out)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        assert part.exists()
    assert len(list(tmp_path.glob(".report.json.*.part"))) == 1  # the second run removed the first's
    write_text(str(out), '{"verdict": "fail"}')
    assert [path.name for path in tmp_path.iterdir()] == ["report.json"]


def test_only_the_gates_abandoned_temporary_files_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    live, part = writing(out)  # another run, still writing
    try:
        theirs = [
            tmp_path / ".report.json.0123456789AB.part",  # not the gate's naming
            tmp_path / ".report.json.0123456789ab.part.bak",
            tmp_path / ".other.json.0123456789ab.part",  # another output's
        ]
        for path in theirs:
            path.write_text("someone else's", encoding="utf-8")
        planted = tmp_path / ".report.json.aaaaaaaaaaaa.part"
        planted.symlink_to(theirs[0])
        write_text(str(out), "{}")
        assert part.exists()
        assert planted.is_symlink()
        assert all(path.read_text(encoding="utf-8") == "someone else's" for path in theirs)
        assert out.read_text(encoding="utf-8") == "{}"
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait(timeout=30)


@pytest.mark.parametrize("scores", [(7.5, 9.8, 0.0), (7.5, 1e-05), (5e-08,), (0.0001, -0.0), (7, 1e16)])
def test_a_gitlab_report_with_cvss_scores_of_any_size_is_what_json_dumps_writes(
    scores: tuple[float, ...],
) -> None:
    findings = [
        replace(finding(f"CVE-2024-{n:04d}", pkg=f"p{n}"), cvss=Cvss(score, "CVSS:3.1/AV:N"))
        for n, score in enumerate(scores)
    ]
    gitlab = b"".join(gitlab_chunks(evaluation_of(*findings), GITLAB)).decode()
    assert gitlab == as_json_dumps_writes_it(gitlab)
    written = [v["details"]["cvss_score"]["value"] for v in json.loads(gitlab)["vulnerabilities"]]
    assert [(type(s), repr(s)) for s in written] == [(type(s), repr(s)) for s in scores]


@settings(max_examples=1000)
@given(number=st.floats(allow_nan=False, allow_infinity=False) | st.floats(min_value=-20, max_value=20))
def test_a_plain_float_is_written_by_orjson_as_json_writes_it(number: float) -> None:
    if plain_float(number):
        assert orjson.dumps([number]).decode() == json.dumps([number], separators=(",", ":"))
