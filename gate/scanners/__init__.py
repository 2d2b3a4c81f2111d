"""The scanners: run one on an image, or read a report one wrote, into the model.

One module per scanner format (`trivy`, `grype`, `snyk`) parses its JSON; `ingest` reads a report
file of any of them; one runner per scanner the gate runs (`trivy_runner`, `grype_runner`)
implements `interface.Scanner`, whose skeleton `interface.run_scanner` runs; `run` scans an image
with the scanners chosen.
"""
