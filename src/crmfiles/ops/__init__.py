"""Domain operations that both the CLI and the TUI call: check with the rules, write
with records, commit with git."""
