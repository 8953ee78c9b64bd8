"""``crm``: one entry point, one handler that turns every failure into a message and an
exit status (0 clean, 1 findings, 2 usage or configuration error, 3 git refused or failed
to commit), never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from importlib import import_module

from crmfiles import __version__
from crmfiles.errors import EXIT_GIT, EXIT_USAGE, CrmError, GitFailed
from crmfiles.runtime import Runtime

# command -> (module in crmfiles.cli, one-line help); modules load only when used, so
# `crm validate` does not pay for the TUI's imports
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "make a new CRM repository"),
    "demo": ("init", "the TUI on a scratch copy of the example repository"),
    "tui": ("tui", "the TUI on this repository"),
    "validate": ("validate", "check one revision"),
    "lint": ("validate", "check what changed between two revisions"),
    "fmt": ("fmt", "canonical formatting; --layout moves records into the configured layout"),
    "list": ("browse", "list records"),
    "show": ("show", "one record for a person: names, money, tasks, documents"),
    "rules": ("validate", "list every rule"),
    "changes": ("forge", "what moved between two revisions (the pull-request summary)"),
    "codeowners": ("forge", "write CODEOWNERS: each opportunity to its responsible person"),
    "new": ("new", "create a record (fields as options, or --edit)"),
    "move": ("ops", "move an opportunity to a stage, with its tasks, in one commit"),
    "close": ("ops", "close an opportunity as won or lost"),
    "reopen": ("ops", "reopen a closed opportunity (managers)"),
    "duplicate": ("ops", "copy an opportunity, back at its first stage"),
    "qualify": ("ops", "turn a lead into a partner, a contact and an opportunity"),
    "disqualify": ("ops", "drop a lead, with a reason"),
    "quote": ("documents", "quotes: new from an opportunity; activate, win, lose, revise"),
    "order": ("documents", "orders: new from a won quote; deliver, cancel"),
    "invoice": ("documents", "invoices: new from an order (all or --amount); paid, cancel"),
    "set": ("edit", "set fields of any record: FIELD=VALUE, dotted paths, += and -= on lists"),
    "edit": ("edit", "edit a record in $EDITOR, checked before it is committed"),
    "merge": ("ops", "merge two duplicate partners or contacts, rewriting every reference"),
    "tasks": ("tasks", "my tasks: open, by due date (--all: everyone's, --overdue)"),
    "task": ("tasks", "start a task, or mark it done with its result"),
    "whoami": ("whoami", "who git's e-mail is in catalogs/people.yaml, and what their roles allow"),
    "render": ("render", "print a quote, order, invoice or any record through a template"),
    "mail": ("render", "a record as an e-mail (.eml) with its PDF; --send delivers it"),
    "blame": ("blame", "who last changed each field of a record: when, which commit, from what"),
    "history": ("history", "stage and status changes from git: when, who, from, to, days"),
    "report": (
        "reports",
        "funnel, forecast, dropoff, winloss, activity or invoicing report; html: a web page",
    ),
    "export": ("data", "write the records as CSV files or a SQLite database"),
    "import": ("data", "records from a CSV file, through a column mapping"),
    "completion": ("completion", "print the shell completion script: bash, zsh or fish"),
    "install": ("merge", "set up this clone's merge driver (field-by-field merges of records)"),
    "merge-driver": ("merge", "git's merge driver for CRM files (run by git, set by install)"),
    "server": ("server", "enforce the checks on push: install the pre-receive hook, check"),
    "doctor": ("doctor", "explain (--fix: repair) what interrupted git or crm commands left"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"crm: error: {message}\n")
        raise SystemExit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that command's module is imported and its
    arguments added (the others still appear in ``crm --help``)."""
    parser = _Parser(prog="crm", description="crmfiles: a CRM kept as code.")
    parser.add_argument("--version", action="version", version=f"crm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules: dict[str, object] = {}
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name != only:
            continue
        mod = modules.get(module) or import_module(f"crmfiles.cli.{module}")
        modules[module] = mod
        command.add_argument(
            "--repo",
            metavar="DIR",
            help="the CRM repository (default: the one around the current folder)",
        )
        getattr(mod, f"add_{name}_arguments")(command)
        command.set_defaults(handler=getattr(mod, f"run_{name}"))
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command word, when it comes first (the usual case) and is known."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS and argv and argv[0] == first else None


INTERACTIVE = ("tui", "demo")  # long-running: they keep Python's usual memory management


def _escape_output() -> None:
    """Every character crm writes goes through one filter: values from records and
    from git (names, commit authors) cannot drive the terminal (controls.py)."""
    from crmfiles.config import use_color
    from crmfiles.controls import EscapingWriter

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, EscapingWriter):
            setattr(sys, name, EscapingWriter(stream, keep_colours=use_color(stream)))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if "_ARGCOMPLETE" in os.environ:  # the shell asking for completions (crm completion)
        from crmfiles.cli.completion import complete

        complete(build_parser())
    if argv is None:  # the command line itself: a short-lived process
        runtime = Runtime.command()
        if _command(words) not in INTERACTIVE:
            _escape_output()
            code = _run(words, runtime, fast=True)
            _leave(code)
        return _run(words, runtime, fast=False)
    return _run(words, Runtime.library(), fast=False)


def _leave(code: int) -> None:
    """Exit without tearing the heap down object by object (a check of 100,000
    records leaves millions of them: seconds of freeing that nobody waits for).
    Output is flushed, and background work on a thread is waited for."""
    from crmfiles import background

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            stream.flush()
    background.wait()
    os._exit(code)


def _notices() -> None:
    from crmfiles import notices

    for message in notices.drain():
        sys.stderr.write(f"crm: warning: {message}\n")


def _run(words: list[str], runtime: Runtime, *, fast: bool) -> int:
    if fast:
        # the objects a check makes (parsed records, findings) form no cycles worth
        # collecting in a process that ends in seconds; the collector's passes over
        # them cost a tenth of a cold run
        gc.disable()
    try:
        code = _handle(words, runtime)
    except SystemExit as stop:  # argparse: a usage error (2), or --help (0)
        if stop.code == EXIT_USAGE:
            _failed_report(words)
        raise
    if code == EXIT_USAGE:
        _failed_report(words)
    return code


def _failed_report(words: list[str]) -> None:
    """A check that could not run still writes a GitLab report GitLab can read."""
    if _command(words) in ("lint", "validate"):
        from crmfiles.cli.validate import write_empty_report

        write_empty_report(words[1:])


def _handle(words: list[str], runtime: Runtime) -> int:
    parser = build_parser(_command(words))
    args = parser.parse_args(words)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    args.runtime = runtime  # how crm runs, for what behaves differently from a program
    try:
        code = int(args.handler(args))
        _notices()
        return code
    except GitFailed as err:
        _notices()
        report_git_failure(err)
        return EXIT_GIT
    except CrmError as err:
        _notices()
        sys.stderr.write(f"crm: error: {err.message}\n")
        if err.hint:
            sys.stderr.write(f"  hint: {err.hint}\n")
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:
        # (an operation interrupted before its commit has undone what it did)
        sys.stderr.write("crm: interrupted\n")
        return 128 + getattr(interrupt, "signum", signal.SIGINT)
    except BrokenPipeError:
        # the reader went away (`crm list | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("CRM_DEBUG"):
            raise
        sys.stderr.write(
            f"crm: internal error: {type(exc).__name__}: {exc}\n"
            "  hint: set CRM_DEBUG=1 for the traceback, and please report it\n"
        )
        return EXIT_USAGE


def report_git_failure(err: GitFailed) -> None:
    """What git refused and what it said, on stderr."""
    sys.stderr.write(f"crm: error: {err.message}\n")
    for line in err.output.splitlines():
        sys.stderr.write(f"  | {line}\n")
    if err.hint:
        sys.stderr.write(f"  hint: {err.hint}\n")
