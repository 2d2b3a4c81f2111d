"""SARIF 2.1.0 for GitHub code scanning (`--sarif PATH`).

One run per file, for one image and platform. One rule per vulnerability id; one result per
vulnerability, package and path, every disposition included: allowlisted and ignored findings
carry a `suppressions` entry with the policy's reason, so nothing is dropped silently; the others
an empty `suppressions` (SARIF's "not suppressed", where a missing one means "not known").

Mappings (this renderer's own: each output keeps its mapping tables beside it, CONTRIBUTING.md):

- `result.level`: blocking -> `error`; informational -> `warning` when the finding meets the
  blocking threshold (advisory mode, within a budget) or is MEDIUM or above, else `note`;
  allowlisted and ignored -> `note` (accepted or filtered by the policy: a reader that ignores
  suppressions must still not take them for blockers).
- `defaultConfiguration.level` of a rule, from its highest severity: CRITICAL and HIGH -> `error`,
  MEDIUM -> `warning`, LOW and UNKNOWN -> `note` (every result sets its own level anyway).
- `properties.security-severity` of a rule: the highest CVSS base score among its findings (in
  0.1-10.0), else `SECURITY_SEVERITY` by severity. UNKNOWN gets none: GitHub then shows the alert
  by its level instead of inventing a security severity nobody assessed.
- `runAutomationDetails.id` (the category): `SarifOptions.category` when given (a trailing `/`
  added), else `container-gate/<image>/<platform>/`: `<image>` is the repository without tag or
  digest (`ghcr.io/acme/app`; Docker Hub's `docker.io/` and `library/` dropped; an image archive's
  file name without extensions), or, for reports that name no image, the first report's file name
  without extensions (for a decision report read back, that of the report its run was named
  after: `ScanReport.named_after`); `<platform>` is `os-arch[-variant]` or `unknown`. Segments are lower case,
  `[a-z0-9._-]`, other characters replaced by `-`.
- `partialFingerprints`: `containerGateFinding/v1` and `primaryLocationLineHash` both hold
  `finding_fingerprint` (vulnerability id, package name, package path without its version-like
  parts or ecosystem; never the version, layer or time; copies at paths that differ only in
  versions by their exact path); see `_sarif_results.Results.result` for why both.
- Location: the Dockerfile (`dockerfile_uri`, else `location_uri`) at the layer's Dockerfile line
  when known, else `location_uri` at line 1: every result lands on a file of the repository.

GitHub's limits (sarif-limits.md) are enforced by leaving results out, least important first;
see `render_sarif`.
"""

from __future__ import annotations

import gzip
import queue
import re
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.errors import GateError, UsageError
from gate.model import Severity
from gate.policy.evaluation import Decision, Evaluation
from gate.render import _sarif_results as build
from gate.render import _sarif_text as words
from gate.render._json_text import Skeleton
from gate.render._sarif_om import JsonValue, om, to_json
from gate.render._sarif_results import FINGERPRINT_KEY, SECURITY_SEVERITY, finding_fingerprint, result_level
from gate.render._summary import base_image_line
from gate.run_wording import COMMAND_LINE_WORDS, JsonReportHint

__all__ = [
    "FINGERPRINT_KEY",
    "SECURITY_SEVERITY",
    "SarifLimits",
    "SarifOptions",
    "finding_fingerprint",
    "render_sarif",
    "repo_uri",
    "result_level",
    "sarif_chunks",
    "sarif_output",
]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
"""The `$schema` GitHub's documentation gives for SARIF 2.1.0."""
SARIF_VERSION = "2.1.0"
TOOL_NAME = "container-gate"
MAX_EXTENSIONS = 100
"""GitHub: at most 100 tool extensions per run (one per scanner is all the gate writes)."""

_SCANNER_PAGES = {
    "trivy": "https://github.com/aquasecurity/trivy",
    "grype": "https://github.com/anchore/grype",
    "snyk": "https://github.com/snyk/cli",
}
_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?\Z")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class SarifLimits:
    """GitHub's limits for one SARIF upload (sarif-limits.md); smaller values for tests."""

    max_results: int = 5_000
    """Results per run. GitHub rejects a file with more than 25,000, and of those it takes only
    the first 5,000 "prioritized by severity": a blocking HIGH could then give way to an
    allowlisted CRITICAL. Keeping 5,000 here lets the gate's own order choose (blocking last)."""
    max_rules: int = 25_000
    """Rules per run: GitHub rejects a file with more."""
    max_gzip_bytes: int = 10_000_000
    """The file, gzip-compressed, must not exceed 10 MB (read as 10^7 bytes, the stricter reading)."""
    max_tags: int = 10
    """Tags per rule: GitHub keeps only the first 10 (and rejects more than 20)."""


@dataclass(frozen=True)
class SarifOptions:
    """What the SARIF output needs beyond the evaluation."""

    location_uri: str = "Dockerfile"
    """The repository file every result is placed on (line 1) when its Dockerfile line is unknown."""
    dockerfile_uri: str | None = None
    """The Dockerfile, relative to the repository root, for findings whose layer has a Dockerfile
    line; None: `location_uri`."""
    category: str | None = None
    """The run's category (`runAutomationDetails.id` without the run part); None: derived."""
    limits: SarifLimits = field(default_factory=SarifLimits)
    """GitHub's limits to fit in."""
    tool_version: str = __version__
    """The version written as the driver's version (fixed by tests so golden files stay stable)."""
    information_uri: str | None = None
    """The project's home page, written as the driver's `informationUri` when given."""
    json_hint: JsonReportHint = COMMAND_LINE_WORDS.json_report
    """How the run's user asks for the JSON report, which the note on left-out results names."""
    own_server: str | None = None
    """The address of the CI server the run belongs to (`run_server`): its issue and pull-request
    pages are not linked from a rule's help, as in the comments."""

    def __post_init__(self) -> None:
        for name in ("location_uri", "dockerfile_uri"):
            value = getattr(self, name)
            if value is not None:
                repo_uri(value, name)


def repo_uri(path: str, what: str = "location") -> str:
    """A repository-relative path as a relative URI: forward slashes, no `./`, percent-encoded."""
    clean = path.strip().replace("\\", "/")
    while clean.startswith("./"):
        clean = clean[2:]
    parts = clean.split("/")
    if not clean or clean.startswith("/") or _URI_SCHEME.match(clean) or ".." in parts or "" in parts:
        raise UsageError(
            f"SARIF {what} {path!r} must be a file path relative to the repository root "
            "(like `Dockerfile` or `docker/app.Dockerfile`), without `..`, a leading `/` or `file://`"
        )
    return quote(clean, safe="/!$&'()*+,;=@")


def _left_out_text(left_out: Sequence[build.Item], reasons: Sequence[str], json_report: str) -> str:
    # Counted by member, named after: up to 100,000 findings can be left out.
    by_disposition = Counter(i.decision.disposition for i in left_out)
    by_severity = Counter(i.decision.finding.severity for i in left_out)
    dispositions = ", ".join(f"{n} {d}" for d, n in sorted((d.value, n) for d, n in by_disposition.items()))
    severities = ", ".join(f"{by_severity[s]} {s.name}" for s in Severity if by_severity[s])
    return (
        f"{len(left_out)} results left out to fit GitHub's limits: {'; '.join(reasons)}. "
        f"Left out: {dispositions} ({severities}), the least important first; blocking results "
        f"are the last to go. {json_report[:1].upper()}{json_report[1:]} lists every finding."
    )


def _run_properties(evaluation: Evaluation) -> dict[str, object]:
    policy, image = evaluation.policy, evaluation.report.image
    return {
        "verdict": evaluation.verdict,
        "mode": policy.mode.value,
        "counts": evaluation.counts.as_dict(),
        "policy": policy.source,
        "policyFailures": list(evaluation.policy_failures) or None,
        "warnings": list(evaluation.warnings) or None,
        "image": {
            "reference": image.reference,
            "digest": image.digest,
            "imageId": image.image_id,
            "platform": image.platform,
            "distro": image.distro,
            "baseImage": image.base_image,
        }
        if image
        else None,
        # With `scan --check-base`: the same line as the terminal and Markdown summaries.
        **(
            {"baseImageCheck": base_image_line(evaluation.base_image, lambda name: f"`{name}`", str)}
            if evaluation.base_image is not None
            else {}
        ),
    }


def _log(
    evaluation: Evaluation,
    options: SarifOptions,
    kept: Sequence[build.Item],
    note: str | None,
    skeleton: Skeleton | None = None,
) -> tuple[Any, list[Iterable[JsonValue]]]:
    """The log, and the streams of its rules and results. With `skeleton`, the log holds its
    placeholders where the streams go (non-empty ones only: an empty list is written as before);
    without, the lists are in the log and no stream is returned."""
    by_rule: dict[str, list[Decision]] = {}
    for item in kept:
        by_rule.setdefault(item.rule_id, []).extend((item.decision, *item.others))
    index = {vuln_id: i for i, vuln_id in enumerate(by_rule)}
    rules = (
        build.rule(vuln_id, decisions, options.limits.max_tags, options.own_server)
        for vuln_id, decisions in by_rule.items()
    )
    uri = repo_uri(options.location_uri, "location_uri")
    dockerfile = repo_uri(options.dockerfile_uri, "dockerfile_uri") if options.dockerfile_uri else uri
    image = evaluation.report.image
    reference = image.reference if image else None
    make = build.Results(uri, dockerfile, reference).result
    results = (make(item, index[item.rule_id]) for item in kept)
    streams: list[Iterable[JsonValue]] = []
    rules_slot: list[Any] = []
    results_slot: list[Any] = []
    if skeleton is None or not kept:
        rules_slot, results_slot = list(rules), list(results)
    else:
        rules_slot, results_slot = skeleton.slot(), skeleton.slot()
        streams = [rules, results]
    version = options.tool_version
    driver = om.ToolComponent(
        name=TOOL_NAME,
        version=version,
        semantic_version=version if _SEMVER.match(version) else None,
        information_uri=options.information_uri,
        rules=rules_slot,
    )
    scanners = dict.fromkeys((s.name, s.version) for s in evaluation.report.scanners)
    extensions = [
        om.ToolComponent(name=name, version=v, information_uri=_SCANNER_PAGES.get(name))
        for name, v in list(scanners)[:MAX_EXTENSIONS]
    ]
    notifications = None
    if note is not None:
        notifications = [om.Notification(message=om.Message(text=note), level="warning")]
    report = evaluation.report
    named = report.named_after or report.sources
    category = options.category or words.default_category(image, named)
    run = om.Run(
        tool=om.Tool(driver=driver, extensions=extensions or None),
        automation_details=om.RunAutomationDetails(id=category.rstrip("/") + "/"),
        invocations=[om.Invocation(execution_successful=True, tool_execution_notifications=notifications)],
        results=results_slot,
        properties=_run_properties(evaluation),
    )
    return om.SarifLog(schema_uri=SCHEMA_URI, version=SARIF_VERSION, runs=[run]), streams


def _encode(log: Any, skeleton: Skeleton, streams: Sequence[Iterable[JsonValue]]) -> Iterator[bytes]:
    doc = to_json(log)
    assert isinstance(doc, dict)  # noqa: S101 - a SarifLog is an object
    # `$schema` and `version` first, where readers and people look for them.
    ordered = {"$schema": doc.pop("$schema"), "version": doc.pop("version"), **doc}
    return skeleton.chunks(ordered, *streams)


def gzip_size(text: str) -> int:
    """The size GitHub's 10 MB limit applies to: the text gzip-compressed.

    Level 6 is the default of the Node zlib that the upload action compresses with; `mtime=0`
    keeps the size repeatable.
    """
    return len(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))


class _Gzipped:
    """`gzip_size` of text given a chunk at a time (gzip.compress's own deflate settings, whose
    output does not depend on how its input is cut; tests/render/test_streams.py checks).

    Deflate is a tenth of the SARIF output's time, and zlib releases the interpreter lock while
    it works: the chunks are joined into batches of about a megabyte and deflated by a thread of
    their own, on another CPU while the next results are made (docs/performance.md). The queue
    between them is short, so batches waiting for deflate never add up to more than a few
    megabytes. `close` (or `stop`, when making the chunks failed) ends the thread.
    """

    # gzip's 10-byte header and 8-byte trailer around the raw deflate stream.
    _FRAME = 18
    _BATCH = 1 << 20

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._batches: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._size = self._FRAME
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._deflate_batches, name="sarif-gzip-size", daemon=True)
        self._thread.start()

    def _deflate_batches(self) -> None:
        deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        try:
            while (batch := self._batches.get()) is not None:
                self._size += len(deflate.compress(batch))
            self._size += len(deflate.flush())
        except Exception as exc:  # handed to `close`, in the rendering thread
            self._failure = exc
            while self._batches.get() is not None:  # let `add` and `close` go on to the end
                pass

    def add(self, chunk: bytes) -> bytes:
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes >= self._BATCH:
            self._hand_over()
        return chunk

    def _hand_over(self) -> None:
        """The pending chunks, as one batch, to the deflating thread."""
        self._batches.put(b"".join(self._pending))
        self._pending.clear()
        self._pending_bytes = 0

    def stop(self) -> None:
        """Deflate what is pending and end the thread (also when making the chunks failed)."""
        if self._pending:
            self._hand_over()
        self._batches.put(None)
        self._thread.join()

    def close(self) -> int:
        """The gzip size of every chunk added; a failure of the thread is raised here."""
        self.stop()
        if self._failure is not None:
            raise self._failure
        return self._size


def render_sarif(evaluation: Evaluation, options: SarifOptions | None = None) -> str:
    """The evaluation as SARIF 2.1.0 text that GitHub code scanning accepts (`sarif_chunks`)."""
    return b"".join(sarif_chunks(evaluation, options)).decode("utf-8")


@dataclass(frozen=True)
class SarifChunks:
    """A SARIF file's UTF-8 chunks, and what GitHub's limits left out of it."""

    chunks: list[bytes]
    left_out: int
    """How many results were left out (0: every finding has its result)."""
    results: int
    """How many results the evaluation has in all."""
    reasons: tuple[str, ...]
    """The limits that were hit, as `_left_out_text` names them."""

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def notice(self) -> str | None:
        """One line for the terminal when results were left out, else None."""
        if not self.left_out:
            return None
        return (
            f"{self.left_out} of {self.results} results left out to fit GitHub's limits "
            f"({'; '.join(self.reasons)}), blocking results last; the JSON report lists every finding"
        )


def sarif_chunks(evaluation: Evaluation, options: SarifOptions | None = None) -> list[bytes]:
    """The evaluation as SARIF 2.1.0 text that GitHub code scanning accepts, UTF-8, in chunks
    (`sarif_output`)."""
    return sarif_output(evaluation, options).chunks


def sarif_output(evaluation: Evaluation, options: SarifOptions | None = None) -> SarifChunks:
    """The evaluation as SARIF 2.1.0 text that GitHub code scanning accepts, UTF-8, in chunks.

    When one of GitHub's limits is hit, results are left out least important first: non-blocking
    before blocking; within those, accepted (ignored, then allowlisted) before informational, and
    the lower severity first. Rules left without results go with them. The run's invocation then
    carries a warning notification saying how many results were left out, and why.

    The chunks are kept until the compressed size is known to fit: the file is rewritten with
    fewer results when it does not. GitHub's limits bound them (5,000 results, 10 MB
    compressed), where the other outputs grow with the report and are written as they are made.
    """
    options = options or SarifOptions()
    limits = options.limits
    all_items = build.items(evaluation.decisions, evaluation.plan)
    by_rank = build.ranked(all_items)
    kept = build.select(by_rank, limits.max_results, limits.max_rules)
    reasons: list[str] = []
    if len(all_items) > limits.max_results:
        reasons.append(f"at most {limits.max_results} results per run")
    if len(kept) < min(len(all_items), limits.max_results):
        reasons.append(f"at most {limits.max_rules} rules per run")

    def attempt(chosen: Sequence[build.Item]) -> tuple[list[bytes], int]:
        chosen_ids = {i.fingerprint for i in chosen}
        left_out = [i for i in reversed(by_rank) if i.fingerprint not in chosen_ids]
        note = _left_out_text(left_out, reasons, options.json_hint.plain) if left_out else None
        skeleton = Skeleton()
        log, streams = _log(evaluation, options, chosen, note, skeleton)
        gzipped = _Gzipped()
        try:
            chunks = [gzipped.add(chunk) for chunk in _encode(log, skeleton, streams)]
        except BaseException:
            gzipped.stop()  # the first error is the one to tell
            raise
        return chunks, gzipped.close()

    def output(chunks: list[bytes], count: int) -> SarifChunks:
        return SarifChunks(chunks, len(all_items) - count, len(all_items), tuple(reasons))

    chunks, size = attempt(kept)
    if size <= limits.max_gzip_bytes:
        return output(chunks, len(kept))
    reasons.append(f"at most {limits.max_gzip_bytes} bytes gzip-compressed")
    count = len(kept)
    while True:
        # The size grows about linearly with the results kept: aim a little under the limit, and
        # shrink again from the new size until it fits (a few rounds; each one is smaller).
        count = min(count - 1, int(count * limits.max_gzip_bytes / size * 0.97))
        if count < 0:
            raise GateError(
                f"the SARIF output does not fit in {limits.max_gzip_bytes} gzip-compressed bytes "
                "even without any result"
            )
        del chunks
        chosen = build.select(by_rank, count, limits.max_rules)
        chunks, size = attempt(chosen)
        if size <= limits.max_gzip_bytes:
            return output(chunks, len(chosen))
