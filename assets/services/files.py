"""Files and rows move together (see assets.services)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)


@contextmanager
def stored_file(path: str, content: File) -> Iterator[str]:
    """Write `content` to storage and yield the stored name; delete it if the block raises."""
    content.seek(0)
    stored = default_storage.save(path, content)
    try:
        yield stored
    except BaseException:
        try:
            default_storage.delete(stored)
        except Exception:  # the original error matters more than a failed clean-up
            logger.exception("could not delete %s after a failed save", stored)
        raise


def files_delete_on_commit(paths: Iterable[str]) -> None:
    names = [p for p in paths if p]

    def delete() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:
                logger.exception("could not delete %s", name)

    transaction.on_commit(delete)
