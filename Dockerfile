# The image of the container-gate GitHub Action (action.yml: `runs.image: Dockerfile`), also usable
# anywhere Docker runs: see docs/github-action.md ("Run the same check locally").
#
# Every image is pinned by digest, and every Python package by version and hash
# (requirements/action.txt, refreshed as CONTRIBUTING.md says), so a rebuild gets the same bits;
# the tags are for readers.
# Where each digest was seen (multi-platform index digests, each in several public repositories'
# Dockerfiles and scripts, several maintained by Renovate or Dependabot):
# - python:3.12-slim-bookworm@sha256:34386ef0... - Python 3.12.15 on Debian 12; also pinned as
#   python:3.12.15-slim-bookworm with the same digest.
# - aquasec/trivy:0.75.0@sha256:af6acf9a... - one of them notes "Official aquasec/trivy 0.75.0
#   multi-platform manifest, verified 2026-10-03". No published digest of 0.76.0 (the version the
#   test suite runs) was found; 0.75.0 and 0.76.0 write the same JSON report format.
# - anchore/grype:v0.120.0@sha256:5c88961f... - the official image keeps the binary at /grype.
# Aqua's and Anchore's own images, never an unpinned download (docs/scanning.md).
# .github/workflows/action-image.yml builds this image and gates it with the default policy.

FROM python:3.12-slim-bookworm@sha256:34386ef0cb081344d7ec1c103ba398e6e9f64e9ab3a1509accc92a4e24a07258 AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The dependencies first, each at the version and with the hashes of the lock (--require-hashes:
# pip refuses any other file, --no-deps: and any package the lock does not name), in a layer of
# their own that a change of the gate's code reuses.
COPY requirements/action.txt requirements/action.txt
RUN python -m venv /opt/container-gate \
    && /opt/container-gate/bin/python -m pip install --no-cache-dir --require-hashes --no-deps \
       -r requirements/action.txt
# The licence and the README go into the wheel's metadata (pyproject.toml names the README).
COPY pyproject.toml LICENSE README.md ./
COPY gate/ gate/
COPY policies/ policies/
# A wheel of the project, built with the lock's setuptools (no build isolation, which would
# download the newest one) and installed without dependencies into the venv that the final stage
# copies whole; `pip check` fails the build when the lock lacks one. pip itself is removed: the
# gate never installs anything at run time.
RUN /opt/container-gate/bin/python -m pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/container-gate/bin/python -m pip install --no-cache-dir --no-deps /wheels/container_gate-*.whl \
    && /opt/container-gate/bin/python -m pip check \
    && /opt/container-gate/bin/python -m pip uninstall --yes pip

FROM python:3.12-slim-bookworm@sha256:34386ef0cb081344d7ec1c103ba398e6e9f64e9ab3a1509accc92a4e24a07258
LABEL org.opencontainers.image.title="container-gate" \
      org.opencontainers.image.description="Gate container images on their vulnerabilities: scan, apply a policy, publish the verdict" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/container-gate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=aquasec/trivy:0.75.0@sha256:af6acf9a6b85dfe389a1941505c0ce9efef52a4719635e1a962f022a3d855daa /usr/local/bin/trivy /usr/local/bin/trivy
COPY --from=anchore/grype:v0.120.0@sha256:5c88961f4130e830542d441c7ed6c78baa28e799163abac53d2be4923fb5ab7d /grype /usr/local/bin/grype
COPY --from=builder /opt/container-gate /opt/container-gate
COPY entrypoint.py /app/entrypoint.py
# No USER instruction, on purpose: GitHub runs a container action as the image's user and documents
# that it must be root ("Dockerfile support for GitHub Actions", USER): the workspace, the
# GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and the Docker socket it mounts belong to the runner's
# user or to root, and a USER here would lose them. The entry point hands the files it writes in the
# workspace back to the workspace's owner. Outside GitHub, run it unprivileged: `docker run --user gate`
# (or --user "$(id -u):$(id -g)"); this unprivileged account is there for that.
RUN groupadd --system --gid 10001 gate \
    && useradd --system --uid 10001 --gid gate --home-dir /home/gate --create-home --shell /usr/sbin/nologin gate \
    && trivy --version \
    && grype version \
    && container-gate --version
ENTRYPOINT ["/opt/container-gate/bin/python", "/app/entrypoint.py"]
