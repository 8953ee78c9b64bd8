"""Writing the dashboard: ``index.html`` in a folder, replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crmfiles.errors import CrmError

INDEX = "index.html"


def write_site(folder: Path, page: str) -> Path:
    """``folder/index.html`` holds ``page``; a reader sees the old page or the new one,
    never half of one.  The folder is made when missing."""
    if folder.exists() and not folder.is_dir():
        raise CrmError(f"{folder} is not a folder", hint="give -o a folder for the site")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(page)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, folder / INDEX)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise CrmError(f"cannot write {folder / INDEX}: {err.strerror or err}") from None
    return folder / INDEX
