"""The project's offline test bed: a Trivy DB built from real advisories, and test images.

Not part of the installed `gate` package: tests, `make demo` and benchmarks import it from the
repository root. See testbed/README.md.
"""
