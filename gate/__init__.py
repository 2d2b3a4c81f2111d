"""container-gate: a gate for container images in CI."""

# Written here as in pyproject.toml (docs/releasing.md bumps both; tests/cli/test_main.py checks
# that they and the installed metadata agree). Asking importlib.metadata instead cost every run
# about 20 ms of start-up: it imports the email parser to read the installed METADATA.
__version__ = "0.1.0"
