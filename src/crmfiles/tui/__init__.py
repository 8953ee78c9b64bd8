"""The Textual TUI: ``crm tui`` and ``crm demo``.  No rule lives here: every change
goes through :mod:`crmfiles.ops`, every check through the validate engine."""
