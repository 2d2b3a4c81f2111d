"""The image config a report carries (OCI image config: Trivy's `Metadata.ImageConfig`, Grype's
`source.target.config`), and the layer objects findings point at.
"""

from __future__ import annotations

from dataclasses import dataclass

from gate.image.config import HistoryEntry, layer_infos
from gate.model import Layer, LayerInfo
from gate.scanners._fields import At, JsonObject, objects, opt_bool, opt_object, opt_str, str_list, str_map


@dataclass(frozen=True)
class ImageConfig:
    """What an OCI image config says about the image."""

    os: str | None
    """`os`, such as `linux`."""
    architecture: str | None
    """`architecture`, with `/variant` appended when the config has one (`arm/v7`)."""
    layers: tuple[LayerInfo, ...]
    """One entry per `rootfs.diff_ids` item, bottom first, with the history instruction when known."""
    labels: tuple[tuple[str, str], ...]
    """`config.Labels` as sorted (key, value) pairs."""
    created: str | None = None
    """`created`: when the image was built (RFC 3339, as written)."""


def parse_image_config(config: JsonObject, at: At) -> ImageConfig:
    """Reads an OCI image config (https://github.com/opencontainers/image-spec/blob/main/config.md)."""
    arch = opt_str(config, "architecture", at)
    variant = opt_str(config, "variant", at)
    if arch and variant:
        arch = f"{arch}/{variant}"
    rootfs = opt_object(config, "rootfs", at)
    diff_ids = str_list(rootfs, "diff_ids", at["rootfs"]) if rootfs else []
    history = [
        # Only the steps that made a layer are read further: the others name no layer.
        HistoryEntry(None, True)
        if opt_bool(entry, "empty_layer", where)
        else HistoryEntry(opt_str(entry, "created_by", where), False)
        for entry, where in objects(config, "history", at)
    ]
    inner = opt_object(config, "config", at)
    labels = str_map(inner, "Labels", at["config"]) if inner else {}
    return ImageConfig(
        os=opt_str(config, "os", at),
        architecture=arch,
        layers=layer_infos(diff_ids, history),
        labels=tuple(sorted(labels.items())),
        created=opt_str(config, "created", at),
    )


class LayerTable:
    """Builds each finding's `Layer` once per distinct layer, with its index and instruction filled
    in from the image's layers when the report carries them."""

    def __init__(self, layers: tuple[LayerInfo, ...] = ()) -> None:
        self._positions = {info.diff_id: (index, info) for index, info in enumerate(layers)}
        self._made: dict[tuple[str | None, str | None], Layer] = {}

    def earliest(self, diff_ids: list[str]) -> str | None:
        """The first of `diff_ids` in the image's layer order (one the image does not list comes
        after those it does, in the given order); None for none."""
        if len(diff_ids) < 2:
            return diff_ids[0] if diff_ids else None
        unknown = len(self._positions)
        return min(
            diff_ids,
            key=lambda diff_id: self._positions[diff_id][0] if diff_id in self._positions else unknown,
        )

    def get(self, diff_id: str | None, digest: str | None) -> Layer | None:
        """The layer with this diff id and blob digest, or None when neither is known."""
        if not diff_id and not digest:
            return None
        key = (diff_id, digest)
        layer = self._made.get(key)
        if layer is None:
            found = self._positions.get(diff_id) if diff_id else None
            if found is None:
                layer = Layer(diff_id=diff_id, digest=digest)
            else:
                layer = Layer(diff_id=diff_id, digest=digest, index=found[0], created_by=found[1].created_by)
            self._made[key] = layer
        return layer


def repo_digest(repo_digests: list[str]) -> str | None:
    """The `sha256:...` part of the first `name@sha256:...` repository digest."""
    for item in repo_digests:
        _, sep, digest = item.rpartition("@")
        if sep and digest:
            return digest
    return None
