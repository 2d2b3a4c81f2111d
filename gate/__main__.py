"""`python -m gate` and the `container-gate` console script: the command line of gate/cli/main.py.

Importing the command line takes about half a second (the parser, the scanners, the renderers).
A Ctrl-C in that time would stop the import with a Python traceback, before `main` can say
"interrupted"; this module imports nothing but `sys` (loaded with the interpreter), so the entry
point can catch it, and one while the command line reads its arguments too.
"""

import sys


def run() -> None:
    """Console-script entry point (`container-gate`, `python -m gate`)."""
    try:
        from gate.cli.main import run as run_command_line

        # A Ctrl-C while a command runs is the command line's to handle (it writes the error
        # outputs); one while it reads its arguments, before that, ends here too.
        run_command_line()
    except (KeyboardInterrupt, RuntimeError) as exc:
        # Python 3.11 turns an exception raised while a class is made (a dataclass field's
        # `__set_name__`) into a RuntimeError caused by it; 3.12 lets it through.
        if isinstance(exc, RuntimeError) and not isinstance(exc.__cause__, KeyboardInterrupt):
            raise
        # As `main` says it and exits (ExitCode.INTERRUPTED).
        print("container-gate: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    run()
