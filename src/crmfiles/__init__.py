"""crmfiles: a CRM kept as code."""

from types import ModuleType
from typing import Any

__version__ = "0.2.0"


def lazy_module(name: str) -> ModuleType:
    """``name``, imported when first used rather than now: PyYAML serves the few files
    with a finding, formatting and structural edits, and loading it is a tenth of the
    start-up of a command that needs none of them.  A stand-in whose attributes are
    the module's, imported (under Python's import lock, so from any thread) at the
    first one asked for; ``import name`` elsewhere is the module itself."""
    return _Deferred(name)


class _Deferred(ModuleType):
    def __getattr__(self, attribute: str) -> Any:  # (only for what it does not hold)
        import importlib

        value = getattr(importlib.import_module(self.__name__), attribute)
        self.__dict__[attribute] = value  # the next look is a plain one
        return value
