"""``crm render`` and ``crm mail`` from the TUI: the document under the cursor
rendered to a file (HTML, Markdown or PDF), or mailed (a ``.eml`` written, or sent
through crm.yaml's ``mail.smtp`` with an e-mail interaction recorded and committed).

The work is :mod:`crmfiles.printing`'s, done on a worker thread (a PDF takes a
moment); a template's, an address's or the SMTP server's complaint shows in the
dialog.  Files go, by default, to the folder ``crm tui`` was started from, named
after the document (``q-2026-0021.pdf``); the path can be changed in the dialog.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, RadioButton, RadioSet, Select, Static

from crmfiles.errors import CrmError
from crmfiles.printing.output import FORMATS
from crmfiles.records.store import Repository
from crmfiles.tui import ops
from crmfiles.tui.screens.dialogs import Dialog


def default_path(record_id: str, extension: str) -> str:
    """``<id>.<extension>`` in the folder the TUI was started from."""
    return str(Path.cwd() / f"{record_id}.{extension}")


class Failed(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Written(Message):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class Sent(Message):
    def __init__(self, subject: str, refused: list[str], fields: dict[str, Any]) -> None:
        super().__init__()
        self.subject = subject
        self.refused = refused
        self.fields = fields


def _complaint(err: CrmError) -> str:
    return err.message + (f"\nhint: {err.hint}" if err.hint else "")


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).expanduser().write_bytes(data)
    except OSError as exc:
        raise CrmError(f"cannot write {path}: {exc.strerror or exc}") from None


class PrintDialog(Dialog[str]):
    """What both dialogs share: the document, the worker's answers."""

    def __init__(self, folder: str, record_id: str) -> None:
        super().__init__()
        self.folder = folder
        self.record_id = record_id

    def busy(self, busy: bool) -> None:
        self.query_one("#ok", Button).disabled = busy

    def record_of(self, repo: Repository) -> Any:
        return repo.get(self.record_id, self.folder)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.busy(False)
        self.error(message.text)

    @on(Written)
    def _written(self, message: Written) -> None:
        self.notify(f"wrote {message.path}", title=f"{self.record_id}", markup=False)
        self.dismiss(message.path)


class RenderDialog(PrintDialog):
    TITLE_TEXT = "Print to a file"
    OK_LABEL = "Write"

    def fields(self) -> Iterable[Widget]:
        yield Static(
            f"[b]{escape(self.record_id)}[/b] as the customer reads it, through the "
            "repository's templates/ (or the built-in ones)."
        )
        yield from self.field(
            "Format",
            Select([(f, f) for f in FORMATS], value="pdf", allow_blank=False, id="format"),
        )
        yield from self.field("Write to", Input(default_path(self.record_id, "pdf"), id="path"))

    @on(Select.Changed, "#format")
    def _format_changed(self) -> None:
        path = self.query_one("#path", Input)
        stem, dot, extension = path.value.rpartition(".")
        if dot and extension in FORMATS:  # the name follows the format, unless retyped
            path.value = f"{stem}.{self.value('#format')}"

    def action_submit(self) -> None:
        path = self.value("#path")
        if not path:
            self.error("Write to: a file name")
            return
        self.busy(True)
        self.error("")
        self.write_file(self.value("#format") or "pdf", path)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def write_file(self, form: str, path: str) -> None:
        from crmfiles.printing.output import context_of, produce

        try:
            repo = Repository(self.crm.root)
            record = self.record_of(repo)
            context = context_of(repo, record, self.crm.today())
            _write(path, produce(repo, record, context, form=form))
        except CrmError as err:
            self.post_message(Failed(_complaint(err)))
            return
        self.post_message(Written(path))


class MailDialog(PrintDialog):
    """``crm mail``: to and cc; a .eml written, or the message sent and recorded."""

    TITLE_TEXT = "Mail"
    OK_LABEL = "Mail"

    def __init__(self, folder: str, record_id: str) -> None:
        super().__init__(folder, record_id)
        # what it sends, in the title: the fields fit on 24 lines without scrolling
        self.TITLE_TEXT = f"Mail {record_id}: HTML, plain text, the PDF attached"

    def fields(self) -> Iterable[Widget]:
        yield Horizontal(
            *self.field("To (commas between)", Input(self._to(), id="to")),
            *self.field("Cc", Input(id="cc")),
            classes="pair",
        )
        with RadioSet(id="how"):
            yield RadioButton("Write a .eml file", True, id="eml")
            yield RadioButton("Send via mail.smtp (recorded)", id="send")
        yield from self.field(
            "Write to (.eml; any mail client opens it)",
            Input(default_path(self.record_id, "eml"), id="path"),
        )

    def _to(self) -> str:
        """The e-mail of the document's first contact: an invoice's order's quote's,
        an order's quote's, a quote's own; else its partner's."""
        records = self.snap.records
        record = records[self.folder].get(self.record_id)
        data = record.data if record else {}
        partner = data.get("partner")
        for link, folder in (("order", "orders"), ("quote", "quotes")):
            if link in data:
                linked = records[folder].get(str(data[link]))
                data = linked.data if linked else {}
                partner = partner or data.get("partner")
        for contact_id in data.get("contacts") or []:
            contact = records["contacts"].get(str(contact_id))
            if contact is not None and contact.data.get("email"):
                return str(contact.data["email"])
        company = records["partners"].get(str(partner)) if partner else None
        return str(company.data.get("email") or "") if company else ""

    @on(RadioSet.Changed, "#how")
    def _how_changed(self) -> None:
        self.query_one("#path", Input).disabled = self.query_one("#send", RadioButton).value

    def action_submit(self) -> None:
        def addresses(selector: str) -> list[str]:
            return [a.strip() for a in self.value(selector).split(",") if a.strip()]

        to, cc = addresses("#to"), addresses("#cc")
        if not to:
            self.error("To: whom to send it?")
            return
        send = self.query_one("#send", RadioButton).value
        path = self.value("#path")
        if not send and not path:
            self.error("Write to: a file name for the .eml")
            return
        self.busy(True)
        self.error("")
        self.mail(to, cc, None if send else path)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def mail(self, to: list[str], cc: list[str], path: str | None) -> None:
        from crmfiles.printing import mail, smtp
        from crmfiles.printing.output import message_of

        try:
            repo = Repository(self.crm.root)
            settings = None if path else smtp.settings(repo.config.raw)
            if settings is not None:
                smtp.password(settings, os.environ)  # before any work: is there one?
            context, message = message_of(
                repo, self.record_of(repo), to=to, cc=cc, today=self.crm.today()
            )
            if path is not None:
                _write(path, message.as_bytes())
                self.post_message(Written(path))
                return
            assert settings is not None
            refused = smtp.deliver(message, settings, os.environ)
        except CrmError as err:
            self.post_message(Failed(_complaint(err)))
            return
        now = dt.datetime.now().astimezone().replace(microsecond=0)
        fields = mail.interaction_fields(repo, context, message, now)
        self.post_message(Sent(str(message["Subject"]), refused, fields))

    @on(Sent)
    def _sent(self, message: Sent) -> None:
        """Sent: the interaction that records it, committed as every operation."""
        note = f"sent {message.subject}"
        if message.refused:
            note += f"; the SMTP server refused {', '.join(message.refused)}"
        self.notify(note, title=self.record_id, markup=False)

        def recorded(outcome: ops.Outcome) -> None:
            if not self.is_attached:
                return
            if outcome.ok:
                self.dismiss(message.subject)
            else:
                self.busy(False)
                self.error(f"Sent, but its interaction was not recorded:\n{outcome.details}")

        if not self.crm.run_op(
            f"Mail {self.record_id}", "create", "interactions", message.fields, reply=recorded
        ):
            self.busy(False)
