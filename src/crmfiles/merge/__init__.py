"""Merging CRM files: git's merge driver (field by field), and setting it up in a clone."""
