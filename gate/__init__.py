"""container-gate: a gate for container images in CI."""

__version__ = "0.1.0"
