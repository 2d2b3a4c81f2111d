"""container-gate: a gate for container images in CI."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One source for the version: pyproject.toml, as installed (`pip install`, `make dev`).
    __version__ = version("container-gate")
except PackageNotFoundError:  # the source tree used without installing it
    __version__ = "0+unknown"
