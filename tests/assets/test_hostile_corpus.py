"""Every hostile file of the corpus (tests/hostile.py: mutants and truncations of JPEG,
PNG, GIF, WebP, TIFF, HEIC and AVIF files, and traps such as a decompression bomb, a
header that claims 6000x6000, HTML, SVG, PDF, ELF) sent through the API as an upload, a
conversion and a background removal: each answers 2xx, or a 4xx in the error shape with
the rows and files exactly as they were. Never a 500."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset, Conversion
from tests.conftest import assert_error, stored_files
from tests.hostile import hostile_corpus
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db
CORPUS = hostile_corpus()


def state(media_root) -> tuple[int, int, list]:
    return Asset.objects.count(), Conversion.objects.count(), stored_files(media_root)


@pytest.fixture
def api(client_for):
    client = client_for("ADMIN")
    client.raise_request_exception = False  # a 500 must show as a 500, not as an exception
    return client


def test_the_corpus_is_large_and_its_names_unique():
    assert len(CORPUS) >= 150
    assert len({name for name, _ in CORPUS}) == len(CORPUS)


def test_every_hostile_upload_is_201_or_a_4xx_that_changes_nothing(api, media_root):
    outcomes = Counter()
    for name, data in CORPUS:
        before = state(media_root)
        response = api.post("/api/v1/assets", {"file": SimpleUploadedFile(name, data)}, format="multipart")
        if response.status_code == 201:
            rows, conversions, files = state(media_root)
            assert (rows, conversions) == (before[0] + 1, before[1]), name
            assert len(files) == len(before[2]) + 1, name
            outcomes["stored"] += 1
        else:
            body = assert_error(response, range(400, 500))
            assert state(media_root) == before, f"{name}: {body}"
            outcomes[body["code"]] += 1
    print(f"{len(CORPUS)} hostile uploads: {dict(outcomes)}")
    assert outcomes["stored"] > 0 and outcomes["invalid_image"] > 0 and outcomes["image_too_large"] > 0


def test_every_hostile_conversion_upload_is_201_or_a_4xx_that_changes_nothing(api, media_root):
    asset = api.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("base.jpg", jpeg_bytes(size=(48, 32)))}, format="multipart"
    ).json()
    for index, (name, data) in enumerate(CORPUS):
        before = state(media_root)
        response = api.post(
            f"/api/v1/assets/{asset['id']}/content/hostile{index}",
            {"file": SimpleUploadedFile(name, data)},
            format="multipart",
        )
        if response.status_code == 201:
            assert state(media_root)[1] == before[1] + 1, name
        else:
            assert_error(response, range(400, 500))
            assert state(media_root) == before, name


def test_every_hostile_image_sent_to_background_removal_is_200_or_a_4xx_that_changes_nothing(api, media_root):
    # Every third file keeps the model runs few; the refusals are what this test is about.
    for name, data in CORPUS[::3]:
        before = state(media_root)
        response = api.post(
            "/api/v1/assets/file/addons/bg_remove", {"image": SimpleUploadedFile(name, data)}, format="multipart"
        )
        if response.status_code == 200:
            assert response["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")
        else:
            assert_error(response, range(400, 500))
        assert state(media_root) == before, name
