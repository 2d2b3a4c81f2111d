"""Which layers came from the base image, and which Dockerfile instruction made each own layer.

A base image's `rootfs.diff_ids` are a prefix of the image's when the image was built FROM it; that
is exact. A Dockerfile is matched against the image history from the end: each instruction of the
final build (FROM excluded) left exactly one history entry, in order, with every builder (legacy,
BuildKit, buildah, kaniko), so the last N entries are the N instructions, and the entries before them
come from the base image. Each pair is checked (same instruction, same command or destination)
and a mismatch stops the mapping there, with a warning, rather than naming a wrong line.

`attribute_layers` then copies what the image says about each layer onto a report's findings.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace

from gate._json_decode import loads
from gate.image.config import HistoryEntry, ImageConfig
from gate.image.dockerfile import KEYWORDS, Build, Instruction
from gate.model import Finding, ImageInfo, Layer, LayerInfo, LayerOrigin, ScanReport

_FLAGS = re.compile(r"^(?:--\S+\s+)*")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class DockerfileMatch:
    """What matching a Dockerfile against the image history established."""

    base_layer_count: int | None = None
    """Layers before the final build's first instruction, when the whole build matched."""
    lines: dict[int, int] = field(default_factory=dict)
    """Layer index -> 1-based Dockerfile line, for the own layers whose instruction is certain."""
    warnings: tuple[str, ...] = ()
    """Why some or all layers could not be mapped."""


def history_keyword(created_by: str | None) -> str:
    """The Dockerfile instruction a history entry records (`RUN` for `/bin/sh -c ...`)."""
    text = (created_by or "").strip().removesuffix("# buildkit").strip()
    if "#(nop)" in text:
        words = text.split("#(nop)", 1)[1].split()
        return words[0].upper() if words else ""
    first = text.split(maxsplit=1)[0] if text else ""
    if first in KEYWORDS:
        return first  # BuildKit and kaniko record the instruction itself (`COPY app /app # buildkit`)
    # The legacy builder and buildah record a RUN as its command (`/bin/sh -c ...`, `|1 A=b /bin/sh -c ...`).
    return "RUN" if text else ""


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _exec_form(arguments: str) -> list[str] | None:
    if not arguments.startswith("["):
        return None
    try:
        value = loads(arguments)
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _destination(arguments: str) -> str | None:
    words = _exec_form(arguments)
    if words is None:
        try:
            words = shlex.split(_FLAGS.sub("", arguments))
        except ValueError:
            return None
    dest = words[-1] if len(words) >= 2 else None
    # A relative or variable destination is recorded resolved by some builders: not comparable.
    return dest.rstrip("/") or "/" if dest and dest.startswith("/") and "$" not in dest else None


def compatible(entry: HistoryEntry, step: Instruction) -> bool:
    """True when the history entry can have been left by this instruction."""
    if history_keyword(entry.created_by) != step.keyword:
        return False
    recorded = _squash(entry.created_by or "")
    if step.keyword == "RUN" and not step.heredoc:
        words = _exec_form(step.arguments)
        command = " ".join(words) if words is not None else _FLAGS.sub("", step.arguments)
        return _squash(command) in recorded
    if step.keyword in ("COPY", "ADD"):
        dest = _destination(step.arguments)
        if dest is None:
            return True
        # `... COPY dir:<hash> in /app/ ` (legacy) or `COPY src /app # buildkit`: the destination as a word.
        word = re.escape(dest.rstrip("/")) + "/?" if dest != "/" else "/"
        return re.search(rf"(?:^|\s){word}(?:\s|$)", recorded) is not None
    return True


def _layer_indexes(history: tuple[HistoryEntry, ...]) -> list[int | None]:
    out: list[int | None] = []
    count = 0
    for entry in history:
        out.append(None if entry.empty_layer else count)
        count += 0 if entry.empty_layer else 1
    return out


def match_dockerfile(config: ImageConfig, build: Build, path: str) -> DockerfileMatch:
    """Maps the image's own layers to the lines of the instructions that made them."""
    steps, history = build.steps, config.history
    if not config.history_matches:
        return _by_count(config, build, path)
    indexes = _layer_indexes(history)
    matched = 0
    while matched < min(len(steps), len(history)):
        entry, step = history[-1 - matched], steps[-1 - matched]
        if not compatible(entry, step):
            break
        matched += 1
    lines = {}
    for offset in range(1, matched + 1):
        index = indexes[-offset]
        if index is not None:
            lines[index] = steps[-offset].line
    before = len(history) - len(steps)
    if matched == len(steps) and (before == 0 or not build.scratch):
        base = sum(1 for i in indexes[:before] if i is not None)
        return DockerfileMatch(base_layer_count=base, lines=lines)
    if matched < min(len(steps), len(history)):
        step, entry = steps[-1 - matched], history[-1 - matched]
        problem = (
            f"{path}:{step.line}: {step.keyword} does not match the image history at that step "
            f"({_squash(entry.created_by or 'no instruction recorded')[:100]!r})"
        )
    elif len(steps) > len(history):
        problem = f"{path}: the final stage has {len(steps)} instructions, the image history only {len(history)} steps"
    else:
        problem = f"{path}: the build starts FROM scratch, yet the image history has {before} earlier steps"
    mapped = (
        f"only the last {matched} instruction(s) are mapped to layers" if matched else "no layer is mapped"
    )
    return DockerfileMatch(lines=lines, warnings=(f"{problem}: {mapped}",))


def _by_count(config: ImageConfig, build: Build, path: str) -> DockerfileMatch:
    """Without a usable history: assume each RUN/COPY/ADD made one layer, unless WORKDIR makes it unsure."""
    making = [s for s in build.steps if s.keyword in ("RUN", "COPY", "ADD")]
    unsure = [s for s in build.steps if s.keyword == "WORKDIR"]
    total = len(config.diff_ids)
    if unsure or len(making) > total or (build.scratch and len(making) != total):
        why = (
            f"WORKDIR at line {unsure[0].line} may or may not have made a layer"
            if unsure
            else (f"its final stage makes {len(making)} layers, the image has {total}")
        )
        return DockerfileMatch(
            warnings=(f"{path}: the image history does not match its layers and {why}: no layer is mapped",)
        )
    base = total - len(making)
    return DockerfileMatch(
        base_layer_count=base,
        lines={base + i: step.line for i, step in enumerate(making)},
        warnings=(
            f"{path}: the image history does not match its layers; assumed each RUN, COPY and ADD of the "
            "final stage made one layer",
        ),
    )


def is_prefix(base: tuple[str, ...], image: tuple[str, ...]) -> bool:
    """True when the image was built on top of the base: its first layers are the base's."""
    return len(base) <= len(image) and image[: len(base)] == base


def first_difference(base: tuple[str, ...], image: tuple[str, ...]) -> int:
    """The index of the first base layer the image does not have at the same position."""
    for i, diff_id in enumerate(base):
        if i >= len(image) or image[i] != diff_id:
            return i
    return len(base)


def attribute(
    layers: tuple[LayerInfo, ...], base_count: int | None, lines: dict[int, int], from_line: int | None
) -> tuple[LayerInfo, ...]:
    """The layers with origin (when the base is known) and Dockerfile line (when mapped) set."""
    out = []
    for i, layer in enumerate(layers):
        origin, line = None, lines.get(i)
        if base_count is not None:
            origin = LayerOrigin.BASE if i < base_count else LayerOrigin.OWN
            if i < base_count:
                line = from_line
        out.append(replace(layer, origin=origin, dockerfile_line=line))
    return tuple(out)


def attribute_layers(report: ScanReport, image: ImageInfo) -> ScanReport:
    """The report with `image` set and each finding's layer completed from the image:
    index, the instruction that created it, base or own, and the Dockerfile line if known.

    Findings whose layer is not among the image's keep what they had, and a warning counts them
    (the report may describe another image). The scanner's distro is kept.
    """
    positions = {info.diff_id: (index, info) for index, info in enumerate(image.layers)}
    # Keyed by what decides the result, so that equal layers share one completed Layer object.
    done: dict[tuple[str, str | None, str | None], Layer] = {}
    findings = []
    strangers = 0
    for finding in report.findings:
        layer = finding.layer
        if layer is None or layer.diff_id is None:
            findings.append(finding)
            continue
        found = positions.get(layer.diff_id)
        if found is None:
            strangers += 1
            findings.append(finding)
            continue
        key = (layer.diff_id, layer.digest, layer.created_by)
        completed = done.get(key)
        if completed is None:
            index, info = found
            completed = Layer(
                diff_id=layer.diff_id,
                digest=layer.digest,
                index=index,
                created_by=info.created_by or layer.created_by,
                origin=info.origin,
                dockerfile_line=info.dockerfile_line,
            )
            done[key] = completed
        findings.append(finding if finding.layer == completed else _with_layer(finding, completed))
    warnings = report.warnings
    if strangers:
        warnings += (
            f"{strangers} finding(s) name a layer that {image.reference} does not have: "
            "the report may describe another image",
        )
    scanned = report.image
    merged = replace(image, distro=image.distro or (scanned.distro if scanned else None))
    return replace(report, findings=tuple(findings), image=merged, warnings=warnings)


def _with_layer(finding: Finding, layer: Layer) -> Finding:
    """`replace(finding, layer=layer)` at a tenth of its cost (it re-runs `__init__` with every field),
    which matters for reports of 100k findings. Finding is a frozen dataclass without slots or
    `__post_init__`, so copying its fields is all `replace` would do."""
    copied = object.__new__(Finding)
    copied.__dict__.update(finding.__dict__)
    object.__setattr__(copied, "layer", layer)
    return copied
