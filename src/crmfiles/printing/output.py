"""A record rendered in one format, or in the three a message carries."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.printing.context import build
from crmfiles.printing.engine import render
from crmfiles.printing.mail import Rendering, compose, sender
from crmfiles.printing.pdf import PRINTABLE, render_pdf
from crmfiles.printing.plain import plain_text
from crmfiles.records import RECORD_FOLDERS
from crmfiles.records.store import Record, Repository

FORMATS = ("html", "md", "pdf")


def context_of(repo: Repository, record: Record, today: dt.date | None = None) -> dict[str, Any]:
    return build(repo, record, today or dt.date.today())


def template_name(record: Record, template: str | None) -> str:
    """The template asked for, else the one named after the record's type."""
    return template or RECORD_FOLDERS[record.folder]


def produce(
    repo: Repository,
    record: Record,
    context: dict[str, Any],
    *,
    form: str,
    template: str | None = None,
) -> bytes:
    """``record`` as HTML, Markdown (through a template) or PDF (laid out from the
    context: a template does not apply)."""
    if form == "pdf":
        if template is not None:
            raise CrmError(
                "--template applies to html and md: a PDF is laid out from the record's "
                "data, the same as the templates get",
                hint="docs/documents.md says how to restyle the PDF",
            )
        return render_pdf(context)
    return render(repo.root, template_name(record, template), form, context).encode("utf-8")


def rendering(
    repo: Repository, record: Record, context: dict[str, Any], template: str | None = None
) -> Rendering:
    """HTML for the body, the Markdown rendering read as plain text for its
    alternative, the PDF to attach (none for a record without a PDF layout: a partner
    through a template of yours)."""
    name = template_name(record, template)
    return Rendering(
        html=render(repo.root, name, "html", context),
        text=plain_text(render(repo.root, name, "md", context)),
        pdf=render_pdf(context) if context.get("type") in PRINTABLE else None,
    )


def message_of(
    repo: Repository,
    record: Record,
    *,
    to: list[str],
    cc: list[str],
    template: str | None = None,
    today: dt.date | None = None,
) -> tuple[dict[str, Any], EmailMessage]:
    """``record`` as the e-mail ``crm mail`` writes or sends (and the TUI's mail
    dialog): subject, HTML and text renderings, the PDF attached; with the context it
    was rendered from (what the interaction recording it is made of)."""
    context = context_of(repo, record, today)
    return context, compose(
        context,
        rendering(repo, record, context, template),
        from_addr=sender(repo),
        to=to,
        cc=cc,
    )
