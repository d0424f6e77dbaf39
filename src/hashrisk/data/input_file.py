"""Reading a data file the user named: a regular file, at most :data:`MAX_INPUT_BYTES`, read once.

``hashrisk data import /dev/zero`` must not read forever, a FIFO must not block, and a directory or a
device is not a data file: the file is opened without blocking, checked with ``fstat`` on the open
descriptor (so a path swapped between the check and the read changes nothing) and read whole, up to the limit.
"""

from __future__ import annotations

import os
import stat

from hashrisk.errors import InputError

MAX_INPUT_BYTES = 256 * 2**20
"""Largest data file read [bytes] (256 MiB). The full Coin Metrics daily history 2009-2025 is about 1 MB and
a hashrisk ``blocks`` export of the whole chain about 200 MB."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _allowed(limit: int) -> str:
    return f"a regular file of at most {limit / 2**20:g} MiB"


def read_input_file(
    path: str | os.PathLike[str],
    *,
    field: str = "file",
    head: int | None = None,
    limit: int = MAX_INPUT_BYTES,
) -> bytes:
    """The bytes of the regular file at `path` (the first `head` bytes when given).

    Parameters
    ----------
    path : path-like
        The file (a symbolic link to a regular file is followed).
    field : str
        The name of the argument, for errors (``file``, ``FILE``).
    head : int, optional
        Read at most this many bytes (format detection).
    limit : int
        Largest file accepted [bytes].

    Raises
    ------
    InputError
        Missing or unreadable path, not a regular file (directory, device such as ``/dev/zero``, FIFO,
        socket), or larger than `limit`; nothing is read from a file that is not regular.
    """
    shown = str(path)
    allowed = _allowed(limit)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputError(field, shown, f"an existing file ({allowed})") from None
    except OSError as exc:  # permission, a directory on some systems, a name too long, ...
        raise InputError(field, shown, f"a readable file ({allowed})", hint=exc.strerror or None) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise InputError(field, shown, allowed, hint=f"it is {kind}")
        if info.st_size > limit:
            raise InputError(field, shown, allowed, hint=f"it has {info.st_size:,} bytes")
        want = limit + 1 if head is None else min(head, limit + 1)
        chunks: list[bytes] = []
        got = 0
        while got < want:
            chunk = os.read(fd, min(want - got, 16 * 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise InputError(field, shown, f"a readable file ({allowed})", hint=exc.strerror or None) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if head is None and len(data) > limit:  # it grew while we read
        raise InputError(field, shown, allowed, hint=f"it has more than {limit:,} bytes")
    return data
