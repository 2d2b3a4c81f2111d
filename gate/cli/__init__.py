"""The command line, in the order a run goes through it.

`parser` (argparse, the help texts) -> `options` (the parsed arguments as typed options, once;
`scan_options` and `compare_options` add those commands') -> `commands` (`check`, `scan`,
`compare` with the `compare` module, `policy validate`, `explain`, `completion`, `data fetch`
with `data_fetch`) -> `outputs` (the files, the terminal, the CI platform, and the words of the
run's hints; `wording` puts an error in them). `main` ties them together and turns every error
into its exit code.
"""
