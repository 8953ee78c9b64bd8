"""``crm``: one entry point, one handler that turns every failure into a message and an
exit status (0 clean, 1 findings, 2 usage or configuration error), never a traceback."""

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
from crmfiles.errors import CrmError
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
    "show": ("browse", "show one record"),
    "rules": ("validate", "list every rule"),
    "changes": ("forge", "what moved between two revisions (the pull-request summary)"),
    "codeowners": ("forge", "write CODEOWNERS: each opportunity to its responsible person"),
    "new": ("ops", "create a record (fields as options, or --edit)"),
    "move": ("ops", "move an opportunity to a stage, with its tasks, in one commit"),
    "close": ("ops", "close an opportunity as won or lost"),
    "reopen": ("ops", "reopen a closed opportunity (managers)"),
    "duplicate": ("ops", "copy an opportunity, back at its first stage"),
    "qualify": ("ops", "turn a lead into a partner, a contact and an opportunity"),
    "disqualify": ("ops", "drop a lead, with a reason"),
    "history": ("reports", "stage and status changes from git: when, who, from, to, days"),
    "report": ("reports", "funnel, forecast, dropoff, winloss or activity report"),
    "export": ("data", "write the records as CSV files or a SQLite database"),
    "import": ("data", "records from a CSV file, through a column mapping"),
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


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # the command line itself: a short-lived process
        runtime = Runtime.command()
        if _command(words) not in INTERACTIVE:
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


def _run(words: list[str], runtime: Runtime, *, fast: bool) -> int:
    if fast:
        # the objects a check makes (parsed records, findings) form no cycles worth
        # collecting in a process that ends in seconds; the collector's passes over
        # them cost a tenth of a cold run
        gc.disable()
    parser = build_parser(_command(words))
    args = parser.parse_args(words)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    args.runtime = runtime  # how crm runs, for what behaves differently from a program
    try:
        return int(args.handler(args))
    except CrmError as err:
        sys.stderr.write(f"crm: error: {err.message}\n")
        if err.hint:
            sys.stderr.write(f"  hint: {err.hint}\n")
        return 2
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
        return 2
