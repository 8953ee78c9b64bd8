"""``crm render ID`` and ``crm mail ID``: parse, call :mod:`crmfiles.printing`, write.

Output goes to ``-o FILE`` or standard output; a PDF or a message (binary) is not
written to a terminal.  Errors of templates, SMTP and recipients are a message and
exit 2; the interaction recording a sent message is committed like every operation.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crmfiles.errors import CrmError


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the record: a quote, order, invoice, ...")
    parser.add_argument(
        "--template",
        metavar="NAME",
        help="templates/NAME.html.j2 (or .md.j2), else the built-in NAME (default: the "
        "record's type: quote, order, invoice, opportunity)",
    )
    parser.add_argument(
        "--format", choices=("html", "md", "pdf"), default="html", help="default: html"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def add_mail_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the record to send")
    parser.add_argument(
        "--to", action="append", required=True, metavar="ADDR", help="recipient (repeatable)"
    )
    parser.add_argument("--cc", action="append", default=[], metavar="ADDR", help="copy to")
    parser.add_argument("--template", metavar="NAME", help="as for crm render")
    parser.add_argument(
        "-o", "--output", metavar="FILE.eml", help="write the message here (a .eml file)"
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="deliver through crm.yaml's mail.smtp (password from the environment) and "
        "record an e-mail interaction, committed",
    )


def _write(data: bytes, output: str | None, *, binary: bool, what: str) -> None:
    if output:
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise CrmError(f"cannot write {output}: {exc.strerror or exc}") from None
        return
    if sys.stdout.isatty():
        if binary:
            raise CrmError(
                f"{what} is binary: not written to a terminal", hint="pass -o FILE, or pipe it"
            )
        sys.stdout.write(data.decode("utf-8"))  # through crm's escaping of controls
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)


def run_render(args: argparse.Namespace) -> int:
    from crmfiles.printing.output import context_of, produce
    from crmfiles.records.store import Repository

    repo = Repository.find(args.repo)
    record = repo.get(args.id)
    context = context_of(repo, record)
    data = produce(repo, record, context, form=args.format, template=args.template)
    _write(data, args.output, binary=args.format == "pdf", what="a PDF")
    if args.output:
        sys.stderr.write(f"wrote {args.output}\n")
    return 0


def run_mail(args: argparse.Namespace) -> int:
    from crmfiles.ops.result import CommitFailed, Refused
    from crmfiles.printing import mail, smtp
    from crmfiles.printing.output import message_of
    from crmfiles.records.store import Repository

    repo = Repository.find(args.repo)
    record = repo.get(args.id)
    settings = smtp.settings(repo.config.raw) if args.send else None
    if settings is not None:
        smtp.password(settings, os.environ)  # before any work: is there one?
    context, message = message_of(repo, record, to=args.to, cc=args.cc, template=args.template)
    data = message.as_bytes()
    if args.output or settings is None:
        _write(data, args.output, binary=True, what="a message")
        if args.output:
            sys.stderr.write(f"wrote {args.output}\n")
    if settings is None:
        return 0
    refused = smtp.deliver(message, settings, os.environ)
    sent_to = [a for a in [*args.to, *args.cc] if a not in refused]
    sys.stdout.write(f"sent {message['Subject']} to {', '.join(sent_to)}\n")
    for who in refused:
        sys.stderr.write(f"crm: warning: the SMTP server refused {who}\n")
    import datetime as dt

    now = dt.datetime.now().astimezone().replace(microsecond=0)
    fields = mail.interaction_fields(repo, context, message, now)
    try:
        result = mail.record_sent(repo.root, fields, runtime=args.runtime)
    except (Refused, CommitFailed) as failed:
        sys.stderr.write(
            f"crm: error: the message is sent, but its interaction was not recorded: "
            f"{failed.message}\n"
        )
        return 1
    sys.stdout.write(result.message + "\n")
    return 0
