"""``crm mail``: a document as a standard .eml, and sent through a real SMTP server on
the loopback interface (aiosmtpd), which the tests then read; the e-mail interaction
that records it is committed."""

from __future__ import annotations

import email
import io
import re
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import found, git, write
from printing_fixture import CRM_YAML, GROSS, add_documents

from crmfiles.cli.main import main
from crmfiles.records.yamlio import parse

SUBJECT = "Quote q-2026-0021 – Nordwind Industrial GmbH"


class Inbox:
    """What the server received, and who logged in."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        # (handled=False: the server answers a refusal with 535)
        return AuthResult(success=auth_data.password == "s3cret päss".encode(), handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def auth_inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp_yaml(port: int, extra: str = "") -> str:
    return (
        CRM_YAML.rstrip()
        + f"\n      smtp:\n        host: 127.0.0.1\n        port: {port}\n"
        + ("        security: none\n" + extra)
    )


def mail(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> tuple[str, str]:
    assert main(["mail", *args]) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.out, captured.err


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def check_message(message: EmailMessage) -> None:
    """Subject, the HTML and text renderings, the PDF: what a mail client shows."""
    from pypdf import PdfReader

    assert message["Subject"] == SUBJECT
    assert message["From"] == "Nordwind Industrial GmbH <sales@nordwind.example>"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    # readable text: the Markdown rendering without its marks, tables in columns
    assert text.startswith("Quote q-2026-0021\n=================\n")
    assert "**" not in text and "|" not in text and "---" not in text
    assert re.search(rf"^Total +{GROSS} EUR$", text, re.M)  # a totals row, in columns
    html = message.get_body(("html",))
    assert html is not None and f"{GROSS} EUR" in html.get_content()
    assert "Acme Müller GmbH" in html.get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Quote q-2026-0021.pdf"
    pdf = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert f"Total {GROSS} EUR" in pdf and "Acme Müller GmbH" in pdf


def test_an_eml_any_mail_client_opens(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_documents(repo)
    before = commits(repo)
    mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--cc", "boss@acme.example",
         "-o", "q.eml")  # fmt: skip
    message = email.message_from_bytes((repo / "q.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    check_message(message)
    assert message["To"] == "jane@acme.example" and message["Cc"] == "boss@acme.example"
    assert message["Message-ID"].endswith("@nordwind.example>") and message["Date"]
    assert commits(repo) == before  # nothing sent, nothing recorded


def test_the_sender_defaults_to_the_git_user(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_documents(repo, CRM_YAML.replace("    mail:\n      from: sales@nordwind.example\n", ""))
    git(repo, "config", "user.email", "alice@example.com")
    mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "-o", "q.eml")
    message = email.message_from_bytes((repo / "q.eml").read_bytes(), policy=policy.default)
    assert message["From"] == "Nordwind Industrial GmbH <alice@example.com>"


@pytest.mark.parametrize("bad", ["jane", "jane@acme.example\r\nBcc: x@evil.example", "a@b@c.d"])
def test_a_bad_address_is_refused(repo: Path, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    add_documents(repo)
    _, err = mail(capsys, "q-2026-0021", "--to", bad, "-o", "q.eml", code=2)
    assert "is not an e-mail address" in err and not (repo / "q.eml").exists()


def test_send_delivers_and_records_an_interaction(
    repo: Path, capsys: pytest.CaptureFixture[str], inbox: tuple[Inbox, int]
) -> None:
    server, port = inbox
    add_documents(repo, smtp_yaml(port))
    before = commits(repo)
    out, _ = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--cc",
                    "boss@acme.example", "--send")  # fmt: skip
    assert f"sent {SUBJECT} to jane@acme.example, boss@acme.example" in out
    (envelope,) = server.envelopes
    assert envelope.mail_from == "sales@nordwind.example"
    assert envelope.rcpt_tos == ["jane@acme.example", "boss@acme.example"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    check_message(message)
    # the interaction: committed, linked to the quote's opportunity, partner and contact
    assert commits(repo) == before + 1
    (path,) = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert path.startswith("interactions/") and path in out
    data = parse((repo / path).read_text("utf-8"))
    assert data["id"].endswith("-mail-q-2026-0021") and data["id"][:10] == data["at"][:10]
    assert data["type"] == "email" and data["direction"] == "outbound"
    assert data["subject"] == SUBJECT
    assert data["opportunity"] == "acme-forklifts" and data["partner"] == "acme"
    assert data["contacts"] == ["jane"]
    assert data["summary"] == (
        "Sent Quote q-2026-0021.pdf to jane@acme.example, cc boss@acme.example."
    )
    assert [d for d in found(repo) if d.path == path] == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_logs_in_with_the_password_from_the_environment(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    auth_inbox: tuple[Inbox, int],
) -> None:
    server, port = auth_inbox
    add_documents(repo, smtp_yaml(port, "        user: sales\n        password_env: NW_SMTP\n"))
    monkeypatch.delenv("NW_SMTP", raising=False)
    before = commits(repo)
    _, err = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--send", code=2)
    assert "the environment variable NW_SMTP holding the password is not set" in err
    assert server.envelopes == [] and commits(repo) == before
    monkeypatch.setenv("NW_SMTP", "wrong")
    _, err = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--send", code=2)
    assert f"the SMTP server 127.0.0.1:{port} refused the login of sales: 535" in err
    assert server.envelopes == [] and commits(repo) == before
    monkeypatch.setenv("NW_SMTP", "s3cret päss")
    _, err = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--send")
    assert server.logins[-1] == (b"sales", "s3cret päss".encode())
    assert len(server.envelopes) == 1 and commits(repo) == before + 1
    assert "crosses the network unencrypted" in err  # security: none, with a password


def test_send_to_a_server_that_is_not_listening(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    add_documents(repo, smtp_yaml(port))
    before = commits(repo)
    _, err = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--send", code=2)
    assert f"cannot connect to the SMTP server 127.0.0.1:{port}: connection refused" in err
    assert commits(repo) == before


def test_send_without_smtp_settings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_documents(repo)
    _, err = mail(capsys, "q-2026-0021", "--to", "jane@acme.example", "--send", code=2)
    assert "crm.yaml has no mail.smtp" in err


def test_an_invoice_of_a_closed_deal_is_recorded_on_the_partner(
    repo: Path, capsys: pytest.CaptureFixture[str], inbox: tuple[Inbox, int]
) -> None:
    """A closed opportunity takes no new interactions: the mail of its invoice is
    recorded on the customer."""
    server, port = inbox
    add_documents(repo, smtp_yaml(port))
    deal = repo / "opportunities/2026/01/acme-forklifts.yaml"
    text = deal.read_text("utf-8").replace("stage: qualify", "stage: commit")
    text = text.replace("status: in_progress", "status: won\nclosed: true")
    write(repo, {str(deal.relative_to(repo)): text.replace("probability: 10", "probability: 100")})
    git(repo, "commit", "-qam", "won")
    mail(capsys, "inv-2026-0007", "--to", "jane@acme.example", "--send")
    message = email.message_from_bytes(server.envelopes[0].original_content, policy=policy.default)
    assert message["Subject"] == "Invoice inv-2026-0007 – Nordwind Industrial GmbH"
    (path,) = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    data = parse((repo / path).read_text("utf-8"))
    assert data["partner"] == "acme" and "opportunity" not in data


def test_any_record_through_a_template_of_yours(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner has no PDF layout: its message carries the two renderings only."""
    add_documents(repo)
    write(repo, {"templates/partner.html.j2": "<p>Hello {{ record.name }}</p>\n",
                 "templates/partner.md.j2": "Hello {{ record.name }}\n"})  # fmt: skip
    mail(capsys, "acme", "--to", "jane@acme.example", "-o", "p.eml")
    message = email.message_from_bytes((repo / "p.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Partner acme – Nordwind Industrial GmbH"
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(("html",))
    assert html is not None and "<p>Hello Acme</p>" in html.get_content()
    assert list(message.iter_attachments()) == []


def test_a_mail_to_no_contact_lists_none(
    repo: Path, capsys: pytest.CaptureFixture[str], inbox: tuple[Inbox, int]
) -> None:
    """The deal's contacts are not whom the mail went to: the interaction lists the
    contacts among the recipients, and none when there are none; sent again the same
    day, its id is the day's and the document's, numbered."""
    _, port = inbox
    add_documents(repo, smtp_yaml(port))
    deal = "opportunities/2026/01/acme-forklifts.yaml"
    write(repo, {deal: (repo / deal).read_text("utf-8") + "contacts: [jane]\n"})
    git(repo, "commit", "-qam", "jane on the deal")
    ids = []
    for _ in range(2):
        mail(capsys, "q-2026-0021", "--to", "buyer@elsewhere.example", "--send")
        (path,) = git(repo, "show", "--name-only", "--format=", "HEAD").split()
        data = parse((repo / path).read_text("utf-8"))
        assert "contacts" not in data
        assert data["opportunity"] == "acme-forklifts"
        assert "q-2026-0021" in data["summary"]
        ids.append(data["id"])
    day = ids[0][:10]
    assert ids == [f"{day}-mail-q-2026-0021", f"{day}-mail-q-2026-0021-2"]
