"""The image config (https://github.com/opencontainers/image-spec/blob/main/config.md), read strictly.

The config is the one place that says which layers an image has (`rootfs.diff_ids`), which build
step made each (`history`, where `empty_layer` entries made none), and its labels and platform.
Every source (engine, archive, registry) ends up here, so all of them describe an image alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gate._json_decode import loads
from gate.errors import ImageError
from gate.image.manifest import Platform
from gate.model import LayerInfo

_DIFF_ID = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


@dataclass(frozen=True)
class HistoryEntry:
    """One build step of the image, whether or not it made a layer."""

    created_by: str | None
    """The instruction as the builder recorded it (`/bin/sh -c #(nop) COPY dir:... in /app `)."""
    empty_layer: bool
    """True when the step changed no file and so made no layer (ENV, LABEL, a RUN that wrote nothing)."""
    comment: str | None = None
    """The builder's comment (`buildkit.dockerfile.v0` for BuildKit steps)."""


@dataclass(frozen=True)
class ImageConfig:
    """What the config says about the image."""

    platform: Platform | None
    """`os`, `architecture` and `variant`; None when the config omits them."""
    diff_ids: tuple[str, ...]
    """`rootfs.diff_ids`: the uncompressed layer digests, bottom first."""
    history: tuple[HistoryEntry, ...]
    """Every build step, oldest first."""
    labels: tuple[tuple[str, str], ...]
    """`config.Labels` as sorted (key, value) pairs."""
    created: str | None = None
    """`created`: when the image was built (RFC 3339, as written), if the config says."""

    @property
    def history_matches(self) -> bool:
        """True when the steps that made a layer are exactly as many as the layers (`layer_steps`)."""
        return all(step is not None for step in layer_steps(self.diff_ids, self.history))

    def layer_steps(self) -> tuple[int | None, ...]:
        """For each layer, the index in `history` of the step that made it (None when unknown)."""
        return layer_steps(self.diff_ids, self.history)

    def layers(self) -> tuple[LayerInfo, ...]:
        """One LayerInfo per diff id, with the instruction that made it when the history says."""
        return layer_infos(self.diff_ids, self.history)


def layer_steps(diff_ids: Sequence[str], history: Sequence[HistoryEntry]) -> tuple[int | None, ...]:
    """For each layer, the index in `history` of the step that made it (None when unknown).

    The spec: history entries with `empty_layer: true` made no layer; the others match
    `rootfs.diff_ids` one to one, in order. Squashed images and imported tarballs can carry a
    history that does not match the layers; then no layer can be said to come from a given step.
    """
    steps = tuple(i for i, h in enumerate(history) if not h.empty_layer)
    return steps if len(steps) == len(diff_ids) else (None,) * len(diff_ids)


def layer_infos(diff_ids: Sequence[str], history: Sequence[HistoryEntry]) -> tuple[LayerInfo, ...]:
    """One LayerInfo per diff id, with the instruction that made it when the history says."""
    return tuple(
        LayerInfo(diff_id=d, created_by=None if s is None else history[s].created_by)
        for d, s in zip(diff_ids, layer_steps(diff_ids, history), strict=True)
    )


def _str(obj: dict[str, object], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ImageError(f"{where}.{key}: expected a string, got {type(value).__name__}")


def parse_config(data: bytes, where: str) -> ImageConfig:
    """Reads an image config; `where` names it in errors (`app.tar: 3f2a....json`)."""
    try:
        doc = loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{where}: image config is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ImageError(f"{where}: image config is not a JSON object")
    rootfs = doc.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(
        isinstance(d, str) and _DIFF_ID.fullmatch(d) for d in diff_ids
    ):
        raise ImageError(f"{where}: rootfs.diff_ids: expected an array of sha256:<64 hex> digests")
    history: list[HistoryEntry] = []
    raw_history = doc.get("history") or []
    if not isinstance(raw_history, list):
        raise ImageError(f"{where}: history: expected an array")
    for i, entry in enumerate(raw_history):
        here = f"{where}: history[{i}]"
        if not isinstance(entry, dict):
            raise ImageError(f"{here}: expected an object")
        empty = entry.get("empty_layer", False)
        if not isinstance(empty, bool):
            raise ImageError(f"{here}.empty_layer: expected true or false")
        history.append(HistoryEntry(_str(entry, "created_by", here), empty, _str(entry, "comment", here)))
    inner = doc.get("config") or {}
    labels = inner.get("Labels") if isinstance(inner, dict) else None
    if labels is None:
        labels = {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ImageError(f"{where}: config.Labels: expected an object of strings")
    os_name, arch = _str(doc, "os", where), _str(doc, "architecture", where)
    variant = _str(doc, "variant", where)
    return ImageConfig(
        platform=Platform(os_name, arch, variant or None) if os_name and arch else None,
        diff_ids=tuple(diff_ids),
        history=tuple(history),
        labels=tuple(sorted(labels.items())),
        created=_str(doc, "created", where),
    )


def check_platform(config: ImageConfig, wanted: Platform | None, label: str) -> None:
    """Errors when a single-platform image is not the platform asked for."""
    have = config.platform
    if wanted is not None and (have is None or not have.satisfies(wanted)):
        raise ImageError(f"{label} has no {wanted} image (available: {have or 'unknown platform'})")
