"""The command line, in the order a run goes through it.

`parser` (argparse, the help texts) -> `options` (the parsed arguments as typed options, once;
`scan_options` adds the `scan` command's) -> `commands` (`check`, `scan`, `policy validate`,
`explain`) -> `outputs` (the files, the terminal, the CI platform). `main` ties them together
and turns every error into its exit code.
"""
