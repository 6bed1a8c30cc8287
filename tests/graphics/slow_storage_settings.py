"""The service's settings with the default storage slowed down for conversion writes.

Selected with DJANGO_SETTINGS_MODULE=tests.graphics.slow_storage_settings in a child
process started by tests/graphics/test_worker.py; never used by the test process.
"""

from assets_project.settings import *  # noqa: F401,F403
from assets_project.settings import MEDIA_ROOT, MEDIA_URL, STORAGES

STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "tests.graphics.slow_storage.SlowConversionStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    },
}
