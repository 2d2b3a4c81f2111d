"""One module per output, each returning text: `terminal`, `markdown`, `json`, `sarif`, `gitlab`,
`junit`, `explain`, `compare` (the compare table, Markdown and JSON) and `openvex`. Modules
starting with `_` are one renderer's helpers (`_sarif_*`, `_gitlab_*`, `_markdown_*`) or what
several share (`_summary`, `_delta`, `_exploit`, `_columns`, `_json_text`, `_json_enrichment`)."""
