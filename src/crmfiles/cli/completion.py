"""``crm completion bash|zsh|fish``, and the answers to the shell's TAB.

The script is argcomplete's: on TAB the shell runs ``crm`` again with the command line
in the environment, and :func:`complete` answers from the parser itself (commands,
options, choices) and from the repository the user is in (:mod:`crmfiles.cli.values`:
record ids, stages, kinds, people...). One library serves all three shells.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

SHELLS = ("bash", "zsh", "fish")

# what an option names, by its long form, on every command that has it
OPTION_VALUES: dict[str, tuple[str, str]] = {
    "stage": ("catalog", "stages"),
    "kind": ("catalog", "kinds"),
    "responsible": ("catalog", "people"),
    "assignee": ("catalog", "people"),
    "team": ("catalog", "people"),
    "tag": ("catalog", "tags"),
    "channel": ("catalog", "channels"),
    "currency": ("catalog", "currencies"),
    "terms": ("catalog", "terms"),
    "reason": ("catalog", "loss-reasons"),
    "loss-reason": ("catalog", "loss-reasons"),
    "disqualify-reason": ("catalog", "loss-reasons"),
    "partner": ("records", "partners"),
    "parent": ("records", "partners"),
    "contact": ("records", "contacts"),
    "opportunity": ("records", "opportunities"),
    "lead": ("records", "leads"),
    "view": ("records", "views"),
}

# what a positional argument names: (command, dest) -> (source, name)
POSITIONAL_VALUES: dict[tuple[str, str], tuple[str, str]] = {
    ("show", "id"): ("records", ""),  # any record, or TYPE/ID
    ("move", "id"): ("records", "opportunities"),
    ("move", "stage"): ("stage-of", "id"),  # the stages of that opportunity's kind
    ("close", "id"): ("records", "opportunities"),
    ("reopen", "id"): ("records", "opportunities"),
    ("duplicate", "id"): ("records", "opportunities"),
    ("history", "id"): ("records", "opportunities"),
    ("qualify", "lead"): ("records", "leads"),
    ("task start", "id"): ("records", "tasks"),
    ("task done", "id"): ("records", "tasks"),
    ("quote new", "id"): ("records", "opportunities"),
    **{(f"quote {a}", "id"): ("records", "quotes") for a in ("activate", "win", "lose", "revise")},
    ("order new", "id"): ("records", "quotes"),
    ("order deliver", "id"): ("records", "orders"),
    ("order cancel", "id"): ("records", "orders"),
    ("invoice new", "id"): ("records", "orders"),
    ("invoice paid", "id"): ("records", "invoices"),
    ("invoice cancel", "id"): ("records", "invoices"),
    ("disqualify", "lead"): ("records", "leads"),
}

STATUSES = ("in_progress", "won", "lost")


def add_completion_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        'Print the shell\'s completion script. bash: eval "$(crm completion bash)" in '
        '~/.bashrc; zsh: eval "$(crm completion zsh)" in ~/.zshrc after compinit; '
        "fish: crm completion fish > ~/.config/fish/completions/crm.fish"
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete for")


def run_completion(args: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["crm"], shell=args.shell))
    return 0


def _completer(source: str, name: str) -> Callable[..., Any]:
    def complete(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> Any:
        from crmfiles.cli import values

        root = values.root(getattr(parsed_args, "repo", None))
        if root is None:
            return []
        if source == "catalog":
            return values.catalog(root, name)
        if source == "stage-of":
            return values.stages_of(root, getattr(parsed_args, name, None))
        if not name:  # any record: bare ids, or TYPE/ID once a / is typed
            return values.any_record(root, prefix)
        return values.record_ids(root, name, prefix)

    return complete


def _statuses(parsed_args: argparse.Namespace | None = None, **_: Any) -> tuple[str, ...]:
    """The statuses of the type listed (an opportunity's unless another is named)."""
    folder = getattr(parsed_args, "type", None) or "opportunities"
    if folder == "opportunities":
        return STATUSES
    from crmfiles.records import RECORD_FOLDERS
    from crmfiles.reports.lists import schema_enum

    return tuple(schema_enum(RECORD_FOLDERS[folder], "status")) if folder in RECORD_FOLDERS else ()


def attach(parser: argparse.ArgumentParser, within: str = "") -> None:
    """Give every argument that names something in the repository its completer (of
    a command's own sub-commands too: ``crm quote win <TAB>``)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            command = f"{within} {name}".strip()
            attach(sub, command)
            for arg in sub._actions:
                longs = [o[2:] for o in arg.option_strings if o.startswith("--")]
                if arg.option_strings:
                    spec = OPTION_VALUES.get(longs[0]) if longs else None
                else:
                    spec = POSITIONAL_VALUES.get((command, arg.dest))
                if spec is not None:
                    arg.completer = _completer(*spec)
                elif command == "list" and longs == ["status"]:
                    arg.completer = _statuses


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's TAB (when it is the shell asking) and exit."""
    import argcomplete

    attach(parser)
    # options only once a - is typed: `crm move <TAB>` offers ids, not --help
    argcomplete.autocomplete(parser, always_complete_options=False)
