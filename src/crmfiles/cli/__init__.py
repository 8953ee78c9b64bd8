"""The ``crm`` command line: argument parsing and output only."""
