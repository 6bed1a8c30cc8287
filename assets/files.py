"""Where stored files go, and how files and rows move together (see assets.services)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

if TYPE_CHECKING:
    from assets.models import Asset

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


# --- where files go ----------------------------------------------------------------------


def original_path(asset: Asset, extension: str) -> str:
    return f"accounts/{asset.account_id}/assets/{asset.id}/original{extension}"


def conversion_path(asset: Asset, name: str, extension: str, token: str | None = None) -> str:
    """A fresh name per write, so the old file stays intact until the new row has
    committed. A job passes its own `token` (assets.jobs.item_key), so every attempt at one
    item writes the same path and a killed attempt's file can be found and removed."""
    token = token or uuid.uuid4().hex[:12]
    return f"accounts/{asset.account_id}/assets/{asset.id}/conversions/{name}-{token}{extension}"
