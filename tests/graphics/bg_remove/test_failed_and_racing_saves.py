"""Remove Background's failed saves (a storage or database failure is a 500, or a job
ERROR, that leaves no row and no file) and racing saves of one conversion (one row, one
file)."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from assets import services as asset_services
from assets.models import Asset, Conversion, JobStatus, Role
from tests.conftest import assert_error, stored_files
from tests.graphics.bg_remove.conftest import (
    DISPOSITIONS, ENDPOINTS, UPLOAD_SIZE, call, check_png_response, make_source,
)
from tests.graphics.conftest import run_job, snapshot
from tests.images import image_probe_bytes

pytestmark = pytest.mark.django_db


# --- failed saves ------------------------------------------------------------------------


@pytest.fixture
def failing_storage(settings, media_root):
    """The default storage becomes a real FileSystemStorage at media_root whose writes of
    conversions and PNG originals fail with OSError("disk full")."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.graphics.failing_storage.FailingSaveStorage",
            "OPTIONS": {"location": str(media_root), "base_url": "/media/"},
        },
    }
    from django.core.files.storage import default_storage, storages

    from tests.graphics.failing_storage import FailingSaveStorage

    assert type(storages["default"]) is FailingSaveStorage
    default_storage.exists("probe")  # the lazy default storage is rebuilt from the new setting
    assert type(default_storage._wrapped) is FailingSaveStorage
    return media_root


@pytest.fixture
def server_error_client(creator) -> APIClient:
    """The creator's key on a client that returns the 500 response instead of raising."""
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=creator.key)
    client.user = creator.user
    return client


def _check_server_error(response, *, secret: str) -> None:
    body = assert_error(response, 500, code="server_error", errors=False)
    assert body["request_id"] in body["message"]
    assert secret not in response.content.decode()  # internals stay hidden
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_storage_failure_during_save_image_is_500_and_leaves_nothing(
    creator, source, failing_storage, server_error_client, media_root, endpoint, disposition
):
    original = media_root / source.file.name
    assert stored_files(media_root) == [original]
    before = snapshot(media_root)
    query = {"mode": "save_image", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(server_error_client, endpoint, source.id, query)
    _check_server_error(response, secret="disk full")
    assert snapshot(media_root) == before
    assert stored_files(media_root) == [original]  # only the source's original remains
    assert not Conversion.objects.exists()
    assert list(Asset.objects.values_list("id", flat=True)) == [source.id]


@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_storage_failure_in_the_save_job_marks_it_error_and_leaves_nothing(
    creator, source, failing_storage, media_root, disposition, django_capture_on_commit_callbacks
):
    query = {"mode": "get_image_and_save", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(creator, "asset_post", source.id, query)
    check_png_response(response, UPLOAD_SIZE)  # the image is answered before the save
    job = run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [e["asset_id"] for e in job.error] == [source.id]
    assert "disk full" not in job.error[0]["error"]
    assert job.finished_at is not None
    assert stored_files(media_root) == [media_root / source.file.name]  # staged file deleted too
    assert not Conversion.objects.exists()
    assert Asset.objects.count() == 1


@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_database_failure_during_save_image_is_500_and_leaves_nothing(
    creator, source, server_error_client, media_root, disposition
):
    """A real database failure: an SQLite trigger refuses the insert of the saved row.

    (The trigger is DDL inside the test's transaction, so it is rolled back with it.)
    """
    if connection.vendor != "sqlite":
        pytest.skip("the fault is injected with an SQLite trigger")
    table = Conversion._meta.db_table if disposition == "add_conversion" else Asset._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TRIGGER fail_insert BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'injected database failure'); END"
        )
    before = snapshot(media_root)
    query = {"mode": "save_image", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    response = call(server_error_client, "asset_post", source.id, query)
    _check_server_error(response, secret="injected database failure")
    assert snapshot(media_root) == before
    assert stored_files(media_root) == [media_root / source.file.name]
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_insert")


# --- racing saves ------------------------------------------------------------------------


def _solid_png(colour: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_racing_conversion_saves_leave_one_row_and_one_file(make_user, media_root, settings):
    user, _ = make_user(Role.CREATOR)
    asset = make_source(user)
    pngs = (_solid_png((255, 0, 0, 255)), _solid_png((0, 0, 255, 128)))
    assert pngs[0] != pngs[1]

    for _round in range(3):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def save(png: bytes) -> None:
            try:
                target = Asset.objects.get(id=asset.id)
                info = image_probe_bytes(png, max_pixels=settings.ASSETS_MAX_PIXELS)
                barrier.wait(timeout=10)
                asset_services.conversion_save(asset=target, name="bg_removed", content=ContentFile(png), info=info)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=save, args=(png,)) for png in pngs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        conversions = list(Conversion.objects.filter(asset_id=asset.id))
        assert len(conversions) == 1
        [conversion] = conversions
        stored = media_root / conversion.file.name
        assert stored.is_file()
        content = stored.read_bytes()
        assert content in pngs
        assert conversion.size == len(content)
        assert conversion.checksum == image_probe_bytes(content, max_pixels=10**8).checksum
        conversion_files = [p for p in stored_files(media_root) if "/conversions/" in p.as_posix()]
        assert conversion_files == [stored]  # the loser's file (and any replaced one) is gone
        assert stored_files(media_root) == sorted([media_root / asset.file.name, stored])
