"""One module per output, each returning text: `terminal`, `markdown`, `json`, `sarif`, `gitlab`,
`junit`, and `explain`. Modules starting with `_` are one renderer's helpers (`_sarif_*`,
`_gitlab_*`, `_markdown_cells`) or facts several share (`_summary`)."""
