"""A filesystem storage that stalls before writing a conversion, so a test can kill the
process that is saving one (tests/graphics/test_worker.py). Used only through
tests/graphics/slow_storage_settings.py, in a child process.

Environment: SLOW_STORAGE_MARKER, a file touched when a conversion write begins (the
signal that the process is now inside the save); SLOW_STORAGE_SECONDS, how long to
stall before writing (default 30; the test kills the process long before that).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.core.files.storage import FileSystemStorage


class SlowConversionStorage(FileSystemStorage):
    def _save(self, name, content):
        if "/conversions/" in name:
            marker = os.environ.get("SLOW_STORAGE_MARKER")
            if marker:
                Path(marker).write_text(name)
            time.sleep(float(os.environ.get("SLOW_STORAGE_SECONDS", "30")))
        return super()._save(name, content)
