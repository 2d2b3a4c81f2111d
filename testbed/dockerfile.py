"""Applies the test bed's Dockerfiles without an engine, producing layers and image config.

Only what `testbed/images/*/Dockerfile` use is supported, and anything else is an error rather
than a guess: ARG (before or after FROM), FROM (scratch or an image built here), COPY of a
directory, ENV, LABEL, CMD (JSON form), and RUN of exactly `printf '%s\\n' LINE... >> FILE`, whose
effect (appending lines to a file) is computed in Python. History strings follow the legacy
builder's (`/bin/sh -c #(nop) COPY dir:<hash> in <dest> `, `/bin/sh -c #(nop)  ENV ...`).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

EPOCH = 1700000000
"""Fixed mtime of every file in a layer, so that archives are byte-for-byte reproducible."""


class DockerfileError(ValueError):
    """An instruction the engine-less builder does not support; names the file and line."""


@dataclass
class ImageState:
    """An image being built: its layers, history and config, and its files (for RUN)."""

    layers: list[bytes] = field(default_factory=list)
    """Uncompressed layer tars, bottom first."""
    history: list[dict[str, object]] = field(default_factory=list)
    """Config history entries, one per instruction."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment (ENV)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels (LABEL)."""
    cmd: list[str] = field(default_factory=list)
    """CMD."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Regular files of the merged filesystem, by path without leading slash."""


def layer_tar(files: dict[str, bytes], modes: dict[str, int]) -> bytes:
    """A deterministic layer tar: parent directories first, sorted paths, root-owned, fixed mtime."""
    dirs = {str(p) for path in files for p in PurePosixPath(path).parents if str(p) != "."}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(dirs | set(files)):
            info = tarfile.TarInfo(name + "/" if name in dirs else name)
            info.mtime = EPOCH
            if name in dirs:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(files[name]), modes.get(name, 0o644)
                tar.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


def _instructions(path: Path) -> list[tuple[int, str, str]]:
    """(line number, keyword, arguments), with comments and blank lines dropped."""
    out = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, args = line.strip().partition(" ")
            out.append((number, keyword.upper(), args.strip()))
    return out


def _expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m[1] or m[2], ""), text)


def _copy(state: ImageState, context: Path, src: str, dest: str, where: str) -> None:
    source = context / src
    if not source.is_dir():
        raise DockerfileError(f"{where}: COPY source {src!r} is not a directory in {context}")
    files = {}
    modes = {}
    for item in sorted(source.rglob("*")):
        if item.is_file() and not item.is_symlink():
            target = str(PurePosixPath(dest.lstrip("/")) / item.relative_to(source).as_posix()).lstrip("/")
            files[target] = item.read_bytes()
            modes[target] = 0o755 if item.stat().st_mode & 0o111 else 0o644
    tar = layer_tar(files, modes)
    state.layers.append(tar)
    state.files.update(files)
    digest = hashlib.sha256(tar).hexdigest()
    state.history.append({"created_by": f"/bin/sh -c #(nop) COPY dir:{digest} in {dest} "})


def _run(state: ImageState, command: str, where: str) -> None:
    words = shlex.split(command)
    if len(words) < 4 or words[:2] != ["printf", "%s\\n"] or words[-2] != ">>":
        raise DockerfileError(f"{where}: only RUN printf '%s\\n' LINE... >> FILE is supported")
    target = words[-1].lstrip("/")
    appended = "".join(line + "\n" for line in words[2:-2]).encode()
    content = state.files.get(target, b"") + appended
    state.layers.append(layer_tar({target: content}, {}))
    state.files[target] = content
    state.history.append({"created_by": f"/bin/sh -c {command}"})


def apply_dockerfile(
    path: Path, context: Path, base: ImageState | None, build_args: dict[str, str]
) -> ImageState:
    """Runs the Dockerfile's instructions on top of `base` (None for FROM scratch)."""
    args: dict[str, str] = {}
    state: ImageState | None = None
    for number, keyword, text in _instructions(path):
        where = f"{path}:{number}"
        nop = f"/bin/sh -c #(nop)  {keyword} "
        if keyword == "ARG":
            name, _, default = text.partition("=")
            args[name] = build_args.get(name, default or args.get(name, ""))
            if state is not None:
                state.history.append({"created_by": nop + text, "empty_layer": True})
        elif keyword == "FROM":
            if _expand(text, args) == "scratch":
                state = ImageState()
            elif base is None:
                raise DockerfileError(f"{where}: FROM {text} needs the base image state")
            else:
                state = ImageState(
                    layers=list(base.layers),
                    history=[dict(h) for h in base.history],
                    env=dict(base.env),
                    labels=dict(base.labels),
                    cmd=list(base.cmd),
                    files=dict(base.files),
                )
        elif state is None:
            raise DockerfileError(f"{where}: {keyword} before FROM")
        elif keyword == "COPY":
            src, dest = text.split()
            _copy(state, context, src, dest, where)
        elif keyword == "RUN":
            _run(state, text, where)
        elif keyword in ("ENV", "LABEL"):
            name, _, value = _expand(text, args).partition("=")
            (state.env if keyword == "ENV" else state.labels)[name] = value
            state.history.append({"created_by": nop + _expand(text, args), "empty_layer": True})
        elif keyword == "CMD":
            state.cmd = json.loads(text)
            state.history.append({"created_by": nop + text, "empty_layer": True})
        else:
            raise DockerfileError(f"{where}: {keyword} is not supported by the engine-less builder")
    if state is None:
        raise DockerfileError(f"{path}: no FROM")
    return state
