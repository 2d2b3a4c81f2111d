"""The image the action runs on the commit a release tag names (docs/releasing.md)."""

from __future__ import annotations

import re

RELEASED_IMAGE = re.compile(r"docker://ghcr\.io/[a-z0-9-]+/container-gate@sha256:[0-9a-f]{64}")
"""`runs.image` of action.yml as scripts/pin_action_image.py pins it: the published image by digest."""
