"""Files and rows move together (see assets.services)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)

# The open `files_undone_on_error` blocks of this thread, innermost last.
_journals: ContextVar[tuple[list[str], ...]] = ContextVar("file_journals", default=())


def _delete_quietly(names: Iterable[str], why: str) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # the original error matters more than a failed clean-up
            logger.exception("could not delete %s %s", name, why)


@contextmanager
def stored_file(path: str, content: File) -> Iterator[str]:
    """Write `content` to storage and yield the stored name; delete it if the block raises."""
    content.seek(0)
    stored = default_storage.save(path, content)
    for journal in _journals.get():
        journal.append(stored)
    try:
        yield stored
    except BaseException:
        _delete_quietly([stored], "after a failed save")
        raise


@contextmanager
def files_undone_on_error() -> Iterator[None]:
    """Delete every file `stored_file` writes inside the block if the block raises.

    For a transaction that spans several saves: each save's own `stored_file` block has
    ended by the time a later step fails and rolls all their rows back, so their files
    must go here. Blocks nest; each removes only what was written inside it."""
    written: list[str] = []
    token = _journals.set((*_journals.get(), written))
    try:
        yield
    except BaseException:
        _delete_quietly(written, "after a rolled-back transaction")
        raise
    finally:
        _journals.reset(token)


def files_delete_on_commit(paths: Iterable[str]) -> None:
    names = [p for p in paths if p]

    transaction.on_commit(lambda: _delete_quietly(names, "after commit"))
