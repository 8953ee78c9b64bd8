"""The one way crmfiles opens a file of the work tree: never blocking, never following
a symlink, never reading more than a record may hold.

A FIFO named like a record would block a plain ``open()`` until something writes to
it; a symlink could point outside the repository; a huge file would be read whole.
Each is a :class:`Unreadable` with a sentence for the user instead."""

from __future__ import annotations

import errno
import os
import stat

from crmfiles.records import MAX_FILE_BYTES

# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (a regular
# file reads the same with it); O_NOFOLLOW: a symlink is refused, not followed
FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class Unreadable(Exception):
    """A file that exists but is not read: ``why`` says what it is instead."""

    def __init__(self, why: str, *, symlink: bool = False, too_large: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.symlink = symlink
        self.too_large = too_large


def read_regular(full: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file. FileNotFoundError when there is none; Unreadable
    for a symlink, a FIFO, a socket, a device or a folder, a file over ``limit``
    bytes, or one the system refuses to read."""
    try:
        fd = os.open(full, FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(full):
            raise Unreadable("a symlink", symlink=True) from None
        try:  # a socket or a device without a driver refuses the open itself
            mode = os.lstat(full).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise Unreadable(f"not a regular file ({kind_of(mode)})") from None
        raise Unreadable(f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"not a regular file ({kind_of(info.st_mode)})")
        if info.st_size > limit:
            raise Unreadable(
                f"file is {info.st_size:,} bytes, over the {limit:,}-byte limit for a record",
                too_large=True,
            )
        return read_all(fd, info.st_size)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def kind_of(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a file"


def read_all(fd: int, size: int) -> bytes:
    """Everything from ``fd``, expected to be ``size`` bytes (fstat's word): one read
    in the usual case, more when the file was short-read or grew since."""
    data = os.read(fd, size + 1)
    if len(data) != size:
        chunks = [data]
        while True:
            more = os.read(fd, 65536)
            if not more:
                break
            chunks.append(more)
        data = b"".join(chunks)
    return data
