"""Printing and mailing records: ``crm render`` and ``crm mail``.

One context (:mod:`.context`): plain data — dicts, lists, strings and Decimals — built
from the records, the catalogs and crm.yaml, every figure from
:mod:`crmfiles.documents.totals`.  Jinja2 templates render it in a sandbox
(:mod:`.engine`) to HTML or Markdown; :mod:`.pdf` lays the same context out as a PDF;
:mod:`.mail` wraps them in an e-mail and :mod:`.smtp` delivers it.
"""

from pathlib import Path

#: the built-in templates; ``crm init`` copies them into a new repository's templates/
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
