"""crmfiles: a CRM kept as code."""

__version__ = "0.1.0"

# True when running as the `crm` command, not imported by a program: then a long check
# may fork a helper process and show a bar on a terminal, and work that only makes the
# next command faster (writing a cache) may be finished by a detached process after
# the command has answered, as git does its gc.
command_line = False
