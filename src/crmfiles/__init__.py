"""crmfiles: a CRM kept as code."""

__version__ = "0.1.0"
