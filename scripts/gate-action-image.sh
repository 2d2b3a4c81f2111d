#!/usr/bin/env bash
# Build the action's image and gate it with itself and the shipped default policy, as the
# `action image` workflow does on GitHub. Needs a Docker engine that can reach Docker Hub and the
# scanners' DB registries (the test suite has neither, so it cannot run this).
#
# It drives the image the way GitHub does: inputs as INPUT_* variables, the repository mounted
# as the workspace, the engine's socket mounted so Trivy finds the image just built.
# Usage: scripts/gate-action-image.sh [TAG]   (default: container-gate-action:local)
# Outputs: container-gate.sarif, container-gate.json and container-gate.md in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-container-gate-action:local}"
socket="${DOCKER_SOCKET:-/var/run/docker.sock}"

docker build --pull --tag "$tag" .
docker run --rm \
  --volume "$socket:/var/run/docker.sock" \
  --volume "$PWD:/github/workspace" \
  --workdir /github/workspace \
  --env GITHUB_WORKSPACE=/github/workspace \
  --env INPUT_IMAGE="$tag" \
  --env INPUT_POLICY=policies/default.yaml \
  --env INPUT_DOCKERFILE=Dockerfile \
  --env INPUT_CACHE-DIR=.cache/container-gate \
  --env INPUT_SARIF=container-gate.sarif \
  --env INPUT_JSON=container-gate.json \
  --env INPUT_MARKDOWN=container-gate.md \
  "$tag"
