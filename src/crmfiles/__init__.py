"""crmfiles: a CRM kept as code."""

from types import ModuleType

__version__ = "0.1.0"

# True when running as the `crm` command, not imported by a program: then a long check
# may fork a helper process and show a bar on a terminal, and work that only makes the
# next command faster (writing a cache) may be finished by a detached process after
# the command has answered, as git does its gc.
command_line = False


def lazy_module(name: str) -> ModuleType:
    """``name``, imported when first used rather than now (``importlib.util.LazyLoader``):
    PyYAML serves the few files with a finding, formatting and edits, and loading it is
    a tenth of the start-up of a command that needs none of them.  (Taken with this,
    not an ``import`` statement: importing a lazy module loads it.)"""
    import importlib.util
    import sys

    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return importlib.import_module(name)  # (which says what is missing)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
