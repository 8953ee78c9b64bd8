"""crmfiles: a CRM kept as code."""

__version__ = "0.1.0"

# Set by the command line (not by a program that imports crmfiles): work that only
# makes the next command faster, such as writing a cache, may be finished by a
# detached process after the command has answered (as git does its gc).
detach_background_work = False
