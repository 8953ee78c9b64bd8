"""``crm mail``: a rendered record as a standard e-mail, and its trace in the CRM.

The message is what any mail client opens (a ``.eml``): a subject naming the document
(``Quote q-2026-0021 – Nordwind Industrial``), the HTML template's rendering with the
Markdown one read as plain text (:mod:`.plain`) as its alternative, and the PDF
attached.  Once sent
(:mod:`.smtp`), an interaction of type ``email`` records it, linked to the record's
partner and contacts and to its opportunity while that is open (a closed opportunity
takes no new interactions), committed like every operation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from crmfiles.errors import CrmError
from crmfiles.records.store import Repository


@dataclass(frozen=True)
class Rendering:
    """What a message carries: both renderings and the PDF."""

    html: str
    text: str
    pdf: bytes | None


def address(value: str, what: str) -> Address:
    """One e-mail address, checked: a header cannot be smuggled in through it."""
    text = value.strip()
    if not text or any(c in text for c in '\r\n,;<>"() ') or text.count("@") != 1:
        raise CrmError(f"{what}: '{value}' is not an e-mail address", hint="write name@domain")
    user, _, domain = text.partition("@")
    if not user or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise CrmError(f"{what}: '{value}' is not an e-mail address", hint="write name@domain")
    return Address(addr_spec=text)


def sender(repo: Repository) -> str:
    """crm.yaml's ``mail.from``, else the git user's e-mail."""
    mail = repo.config.raw.get("mail")
    configured = mail.get("from") if isinstance(mail, dict) else None
    if isinstance(configured, str) and configured.strip():
        return configured.strip()
    from crmfiles import git

    email = git.out(["config", "user.email"], repo.root, check=False).strip()
    if not email:
        raise CrmError(
            "who sends it? crm.yaml has no mail.from and git no user.email",
            hint="set mail.from in crm.yaml (or `git config user.email`)",
        )
    return email


def subject(context: dict[str, Any]) -> str:
    """``Quote q-2026-0021 – Nordwind Industrial``; an opportunity by its name."""
    document = context["document"]
    what = f"{document['title']} {document['id']}"
    if context.get("type") == "opportunity":
        what = f"{document['title']} {context['opportunity']['name']}"
    name = context["company"].get("name")
    return f"{what} – {name}" if name else what


def attachment_name(context: dict[str, Any]) -> str:
    document = context["document"]
    return f"{document['title']} {document['id']}.pdf"


def _what(context: dict[str, Any]) -> str:
    document = context["document"]
    if context.get("type") in ("quote", "order", "invoice", "opportunity"):
        return attachment_name(context)
    return f"{document['title']} {document['id']}"


def compose(
    context: dict[str, Any],
    rendering: Rendering,
    *,
    from_addr: str,
    to: list[str],
    cc: list[str],
) -> EmailMessage:
    if not to:
        raise CrmError("whom to? pass --to ADDRESS")
    message = EmailMessage(policy=policy.SMTP)
    company = context["company"].get("name") or ""
    origin = address(from_addr, "mail.from")
    message["Subject"] = subject(context)
    message["From"] = Address(company, origin.username, origin.domain)
    message["To"] = [address(a, "--to") for a in to]
    if cc:
        message["Cc"] = [address(a, "--cc") for a in cc]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=origin.domain)
    message.set_content(rendering.text)
    message.add_alternative(rendering.html, subtype="html")
    if rendering.pdf is not None:
        message.add_attachment(
            rendering.pdf, maintype="application", subtype="pdf", filename=attachment_name(context)
        )
    return message


def interaction_fields(
    repo: Repository, context: dict[str, Any], message: EmailMessage, now: dt.datetime
) -> dict[str, Any]:
    """The interaction that records the sent message: the record's partner, the
    contacts it went to (none when it went to none of them), its opportunity while
    open, and what was sent to whom (the document's id in its summary: an interaction
    names no document); its id is the day and the document's (``2026-12-06-mail-q-2026-0021``)."""
    record = context["record"]
    kind = context["type"]
    partner = (context.get("partner") or {}).get("id")
    opportunity: str | None = None
    if kind == "opportunity":
        opportunity = context["document"]["id"]
    elif context["document"].get("opportunity"):
        opportunity = context["document"]["opportunity"]["id"]
    elif kind == "partner":
        partner = context["document"]["id"]
    elif kind == "contact":
        partner = record.get("partner")
    if opportunity is not None:
        found = repo.by_id("opportunities").get(opportunity)
        if found is None or found.data.get("closed") is True:
            opportunity = None
    recipients = {
        a.addr_spec.lower() for h in ("To", "Cc") for a in getattr(message[h], "addresses", ())
    }
    contacts = [
        c.id
        for c in repo.records("contacts")
        if str(c.data.get("email", "")).lower() in recipients
        and (partner is None or c.data.get("partner") in (None, partner))
    ]
    if kind == "contact" and context["document"]["id"] not in contacts:
        contacts.insert(0, context["document"]["id"])
    to = ", ".join(str(a) for a in message["To"].addresses)
    cc = message["Cc"]
    day = now.date().isoformat()
    taken = repo.by_id("interactions")
    wanted = f"{day}-mail-{context['document']['id']}"
    record_id, n = wanted, 1
    while record_id in taken:  # (sent again the same day)
        n += 1
        record_id = f"{wanted}-{n}"
    fields: dict[str, Any] = {
        # dated like the other interactions, naming what was sent
        "id": record_id,
        "type": "email",
        "subject": str(message["Subject"]),
        "at": now.isoformat(),
        "direction": "outbound",
        "partner": partner,
        "contacts": contacts or None,
        "opportunity": opportunity,
        "lead": context["document"]["id"] if kind == "lead" else None,
        "summary": f"Sent {_what(context)} to {to}"
        + (f", cc {', '.join(str(a) for a in cc.addresses)}" if cc else "")
        + ".",
    }
    # (contacts stays, None when the mail went to none of them: the interaction is then
    # not given the opportunity's contacts as a default)
    return {k: v for k, v in fields.items() if v is not None or k == "contacts"}


def record_sent(root: Path, fields: dict[str, Any], *, runtime: Any = None) -> Any:  # an OpResult
    """The interaction, created and committed through the operations' registry."""
    from crmfiles.ops.registry import OPERATIONS

    return OPERATIONS["create"](root, "interactions", fields, commit=True, runtime=runtime)
