"""A real filesystem storage with one fault injected: writes of saved results fail.

`FailingSaveStorage` behaves exactly like Django's FileSystemStorage except that `_save`
raises OSError("disk full") for the files a Remove Background save writes:

- any conversion file (`.../conversions/...`), which `add_conversion` writes;
- any PNG original (`.../assets/<id>/original.png`), which `add_new_asset` writes for
  the `<stem>_bg_removed.png` asset it creates.

Everything else (JPEG originals made by the tests, the staged `jobs/<id>/result.png` of
`get_image_and_save`) is stored normally. Use it by pointing settings.STORAGES["default"]
at it with the test's media root as `location`.
"""

from __future__ import annotations

import re

from django.core.files.storage import FileSystemStorage

_FAILING = re.compile(r"(/conversions/)|(/assets/[0-9a-f]{32}/original\.png$)")


def fails(name: str) -> bool:
    return bool(_FAILING.search(name.replace("\\", "/")))


class FailingSaveStorage(FileSystemStorage):
    def _save(self, name, content):
        if fails(name):
            raise OSError("disk full")
        return super()._save(name, content)
