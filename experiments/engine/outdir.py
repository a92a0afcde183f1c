"""Output folders: checked before anything is written, and locked while they are written.

Every command that writes a folder (``sweep``, ``run``, ``compare``) holds an exclusive lock
on it (``.lock``, an advisory ``flock``) for as long as it writes, so that two commands never
write one folder at once: the second is refused with a message naming the folder, or waits
if asked to. Taking the lock is also the check that the folder can be written at all (a
read-only folder, a path under a file), made before any run starts, so such a mistake is one
line, not a traceback after an hour of work.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Self

from pydantic_core import PydanticCustomError

from simulation.errors import OutsideInError, RunFailedError

LOCK_NAME = ".lock"
"""The lock file inside a locked folder (empty; removed when the lock is released)."""


class FolderError(OutsideInError, ValueError):
    """An output folder cannot be used: a user mistake, reported in one line (exit 2)."""


class FolderBusyError(FolderError):
    """Another command holds the folder's lock."""


class WriteFailedError(RunFailedError, OSError):
    """Writing failed mid-way (a full disk, a vanished folder): exit 1, resumable."""


def check_out_path(out: str | Path, option: str = "--out") -> Path:
    """Refuse an empty path and a path that is a file, before anything is written."""
    text = str(out)
    if not text.strip():
        raise FolderError(f"{option}: give a folder name (an empty name would write into the "
                          "current folder)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise FolderError(f"{option}: {path} exists and is not a folder")
    return path


def out_folder(value: str) -> Path:
    """Parse a command line's output folder option, refusing an empty name.

    An empty string would become the current folder (``Path("")`` is ``.``); an explicit
    ``.`` stays allowed.
    """
    if isinstance(value, Path):
        return value
    if not value.strip():  # pydantic's own error type: the CLI shows the message as it is
        raise PydanticCustomError("empty_folder", "give a folder name (an empty name would "
                                  "write into the current folder)")
    return Path(value)


def write_failure(err: OSError, out: str | Path, *, resumable: bool = True) -> WriteFailedError:
    """One line for a write that failed at run time (``No space left on device``...)."""
    what = err.strerror or str(err)
    where = err.filename or out
    hint = ("; free space and run the same command again to resume" if resumable
            and err.errno in (errno.ENOSPC, errno.EDQUOT) else "")
    return WriteFailedError(f"cannot write {where} ({what}){hint}")


class FolderLock:
    """Exclusive lock on an output folder, created if needed; a context manager.

    ``wait`` blocks until the holder is done instead of refusing. The lock file is removed
    on release; if the folder did not exist and nothing else was written into it, the
    folder is removed too, so a refused or failed command leaves nothing behind.
    """

    def __init__(self, folder: str | Path, *, wait: bool = False,
                 option: str = "--out") -> None:
        self.folder = check_out_path(folder, option)
        self.wait = wait
        self.option = option
        self._fd: int | None = None
        self._created: list[Path] = []

    def acquire(self) -> Self:
        """Create the folder (and missing parents), open the lock file, take the lock."""
        missing = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        self._created = missing
        lock = self.folder / LOCK_NAME
        while True:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                self._remove_created()
                raise FolderError(f"{self.option}: cannot write to {self.folder} "
                                  f"({err.strerror or err})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                raise FolderBusyError(
                    f"{self.option}: {self.folder} is being written by another command right "
                    "now; wait for it to finish, use another folder, or give --wait") from None
            try:  # the holder before us removes the file on release: lock the one on disk
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                return self
            os.close(fd)

    def release(self) -> None:
        """Drop the lock and its file; remove the folder again if this lock created it."""
        if self._fd is None:
            return
        (self.folder / LOCK_NAME).unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
        self._remove_created()

    def _remove_created(self) -> None:
        """Remove the folders this lock created, if nothing was written into them."""
        with contextlib.suppress(OSError):  # stops at the first folder that is not empty
            for path in self._created:  # deepest first
                path.rmdir()

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
