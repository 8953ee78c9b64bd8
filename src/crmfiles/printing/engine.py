"""Templates in a sandbox: Jinja2's immutable sandboxed environment, reading only the
repository's ``templates/`` folder and the built-in templates.

A template sees the context's plain data and the filters below, nothing else: the
sandbox refuses attributes like ``__class__`` (a :class:`SecurityError`), the loader
serves no path outside the two folders (``..`` and absolute names are not found, a
symlink is not followed), and strict undefined turns a misspelt variable into an error
instead of an empty field on a customer's invoice.  Every failure is a
:class:`CrmError` naming the template file and line.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2 import TemplateSyntaxError as JinjaSyntaxError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from crmfiles.errors import CrmError
from crmfiles.money import fmt
from crmfiles.printing import TEMPLATES_DIR

BUILTIN = TEMPLATES_DIR
REPO_FOLDER = "templates"
EXTENSIONS = {"html": ".html.j2", "md": ".md.j2"}
#: longest string or list a template may make with ``*``, and the largest exponent
MAX_REPEAT = 1_000_000
MAX_EXPONENT = 1000


def template_file(name: str, form: str) -> str:
    return name + EXTENSIONS[form]


class Loader(BaseLoader):
    """``templates/NAME`` of the repository first (a team's restyled copy), then the
    built-in template of that name."""

    def __init__(self, root: Path | None) -> None:
        self.folder = root / REPO_FOLDER if root is not None else None
        self.served: set[str] = set()  # the file names errors are located in

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # TemplateNotFound for "..", "/" stays inside
        found = self._from_repository(template, pieces)
        if found is None:
            path = BUILTIN.joinpath(*pieces)
            if not path.is_file():
                raise TemplateNotFound(template)
            found = (path.read_text("utf-8"), str(path))
        self.served.add(found[1])
        return found[0], found[1], lambda: True

    def _from_repository(self, template: str, pieces: list[str]) -> tuple[str, str] | None:
        from crmfiles.records.opener import Unreadable, read_regular

        if self.folder is None or self.folder.is_symlink() or not self.folder.is_dir():
            return None
        full = self.folder.joinpath(*pieces)
        shown = "/".join([REPO_FOLDER, *pieces])
        inside = os.path.realpath(self.folder) + os.sep
        if full.is_symlink():
            raise TemplateNotFound(template, f"{shown}: a symlink; not read")
        if not os.path.realpath(full).startswith(inside):
            raise TemplateNotFound(template, f"{shown}: leads out of {REPO_FOLDER}/; not read")
        try:
            content = read_regular(full)
        except FileNotFoundError:
            return None
        except Unreadable as exc:
            raise TemplateNotFound(template, f"{shown}: {exc.why}; not read") from None
        try:
            return content.decode("utf-8").removeprefix("\ufeff"), shown
        except UnicodeDecodeError as exc:
            raise CrmError(f"{shown}: not valid UTF-8 (byte {exc.start})") from None

    def names(self, form: str) -> list[str]:
        """The templates of a format there are, here and built in (for a hint)."""
        suffix = EXTENSIONS[form]
        folders = [BUILTIN] + ([self.folder] if self.folder and self.folder.is_dir() else [])
        found = {
            p.name.removesuffix(suffix)
            for folder in folders
            for p in folder.glob(f"*{suffix}")
            if not p.name.startswith("_")
        }
        return sorted(found)


class Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` bounded so a template cannot eat the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        big = isinstance(right, (int, Decimal)) and abs(Decimal(right)) > MAX_EXPONENT
        if operator == "**" and big:
            raise SecurityError(f"exponent {right} is over the limit of {MAX_EXPONENT}")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                if sized and len(seq) * times > MAX_REPEAT:
                    raise SecurityError(f"repeating makes over {MAX_REPEAT:,} items")
        return super().call_binop(context, operator, left, right)


def number(value: Any) -> str:
    """A quantity or a percentage as people write it: ``6``, ``2.5``, ``19``."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def money(value: Any) -> str:
    """Money to the cent with thousands separated: ``109,155.00``."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return fmt(Decimal(value))
    return str(value)


def cell(value: Any) -> str:
    """A value fit for a Markdown table cell: no pipe ends it, no newline breaks it."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("|", "\\|").split())


def environment(root: Path | None) -> Sandbox:
    env = Sandbox(
        loader=Loader(root),
        autoescape=lambda name: bool(name) and str(name).endswith((".html.j2", ".html")),
        undefined=StrictUndefined,
        finalize=lambda value: "" if value is None else value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, number=number, cell=cell)
    return env


def render(root: Path | None, name: str, form: str, context: dict[str, Any]) -> str:
    """``name`` (``quote``, ``invoice``...) rendered to ``form`` (html or md)."""
    env = environment(root)
    loader = env.loader
    assert isinstance(loader, Loader)
    wanted = template_file(name, form)
    try:
        template = env.get_template(wanted)
    except TemplateNotFound as exc:
        if _why(exc) is not None:  # there, but not read (a symlink...)
            raise CrmError(str(_why(exc))) from None
        if exc.name != wanted:
            raise CrmError(f"{wanted}: template '{exc.name}' not found") from None
        raise CrmError(
            f"no template '{wanted}' in {REPO_FOLDER}/ nor built in",
            hint=f"one of: {', '.join(loader.names(form)) or '(none)'}; or write "
            f"{REPO_FOLDER}/{wanted}",
        ) from None
    except JinjaSyntaxError as err:
        raise CrmError(_syntax(err, wanted)) from None
    try:
        return template.render(context)
    except CrmError:
        raise
    except JinjaSyntaxError as err:  # an included template's
        raise CrmError(_syntax(err, wanted)) from None
    except Exception as exc:  # whatever a template's expression raised
        where = _located(exc, loader.served) or wanted
        raise CrmError(f"{where}: {_describe(exc)}", hint=_hint(exc)) from None


def _syntax(err: JinjaSyntaxError, fallback: str) -> str:
    where = err.filename or err.name or fallback
    return f"{where}:{err.lineno}: template syntax error: {err.message}"


def _frames(exc: BaseException) -> Iterator[traceback.FrameSummary]:
    yield from traceback.extract_tb(exc.__traceback__)


def _located(exc: BaseException, served: set[str]) -> str | None:
    """``file:line`` of the innermost template frame the error passed through (Jinja
    rewrites its tracebacks to show template lines)."""
    inside = [f for f in _frames(exc) if f.filename in served]
    return f"{inside[-1].filename}:{inside[-1].lineno}" if inside else None


def _why(exc: TemplateNotFound) -> str | None:
    """What the loader said beyond "not found" (Jinja's message is the bare name)."""
    return exc.message if exc.message and exc.message != exc.name else None


def _describe(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox: {exc}"
    if isinstance(exc, TemplateNotFound):
        return _why(exc) or f"template '{exc.name}' not found"
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _hint(exc: Exception) -> str | None:
    if isinstance(exc, SecurityError):
        return "a template sees the context's data only (docs/documents.md)"
    if isinstance(exc, TemplateNotFound):
        return f"a template includes only files of {REPO_FOLDER}/ and the built-in ones"
    if isinstance(exc, TemplateError):
        return "docs/documents.md lists the variables a template sees"
    return None
