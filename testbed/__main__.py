"""`python -m testbed prepare DIR`: writes a Trivy cache and engine-less image archives for demos.

DIR/trivy-cache/db/{trivy.db,metadata.json}, DIR/images/{base,app}.tar and the image family's
DIR/images/family/{full,slim,distroless,alpine,scratch}.tar; then, with no network:
    trivy image --cache-dir DIR/trivy-cache --skip-db-update ... --input DIR/images/app.tar
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from testbed.family import build_family_archives
from testbed.images import ImageBuildError, build_docker_archive
from testbed.trivydb import DEFAULT_UPDATED_AT, build_trivy_db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed")
    sub = parser.add_subparsers(dest="command", required=True)
    prepare = sub.add_parser("prepare", help="write a Trivy cache and docker-archives of the test images")
    prepare.add_argument("dir", type=Path)
    prepare.add_argument(
        "--updated-at",
        type=lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC),
        default=DEFAULT_UPDATED_AT,
        help="DB build time Trivy reports (YYYY-MM-DD), to demo a stale DB",
    )
    args = parser.parse_args(argv)
    db = build_trivy_db(args.dir / "trivy-cache", updated_at=args.updated_at)
    images = build_docker_archive(args.dir / "images")
    print(f"trivy cache: {db.cache_dir} ({db.advisories} advisories, {db.size} bytes)")
    print(f"images: {images.base} {images.app}")
    try:
        family = build_family_archives(args.dir / "images" / "family")
    except ImageBuildError as exc:
        # Only `scratch` needs a host file (a static busybox); the demo images do not.
        print(f"image family: skipped ({exc})")
    else:
        print(f"image family: {' '.join(str(p) for p in family.paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
