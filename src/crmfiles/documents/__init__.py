"""Sales documents: quotes, orders and invoices — their lifecycle and their totals.

Pure domain knowledge, shared by the rules (``document-status``, ``document-source``),
the operations (``crm quote|order|invoice``), the readers (lists, the invoicing report,
the TUI's Quotes tab) and the printed documents, so that none of them says it twice.
"""
