"""`python -m gate`: the same command line as `container-gate`."""

from gate.cli.main import run

if __name__ == "__main__":
    run()
