"""Reports: pure functions of records (and history) that the CLI and the TUI render."""
