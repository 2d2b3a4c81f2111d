"""What the hidden marker of a pull-request comment or merge-request note is made of.

Both platforms find the comment a run owns by a marker on its first line holding hashes of the
job, the image and the platform. Hashes of trusted values only, so nothing from a report reaches
the marker as text; and the image without what changes on every push, so one comment per image
survives every push.
"""

from __future__ import annotations

import hashlib


def marker_hash(*values: str) -> str:
    """16 hex digits of SHA-256 over `values` (joined by NUL, which no CI variable holds)."""
    return hashlib.sha256("\0".join(values).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def stable_image(reference: str, shas: tuple[str, ...]) -> str:
    """The image reference without what changes on every push: the digest, and a commit SHA (or
    its first 7+ characters) in the tag, as in `app:sha-1a2b3c4` or `app:${{ github.sha }}`."""
    name = reference.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    repository, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "")
    for sha in shas:
        for length in range(len(sha), 6, -1):
            if sha[:length] in tag:
                tag = tag.replace(sha[:length], "")
                break
    return f"{repository}:{tag}"
