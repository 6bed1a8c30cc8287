"""The asset API against a real S3-compatible server (moto's standalone server).

A moto server is started on 127.0.0.1 on a free port (the `s3_endpoint` fixture of
tests/conftest.py) and always stopped at the end. The app's default storage is switched to django-storages' S3Storage pointed
at it, so every file the service writes, reads and deletes goes over HTTP to the server;
boto3 is used directly only to create the bucket and to look at what it holds.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from storages.backends.s3 import S3Storage

from assets.models import Asset, Conversion, Role
from assets.services import asset_create_from_bytes
from tests.conftest import REGION, bucket_keys, stored_files
from tests.images import jpeg_bytes, png_bytes, truncated_jpeg_bytes

pytestmark = pytest.mark.slow

@pytest.fixture
def s3_storage(media_root, settings, s3_endpoint, bucket):
    """Switch the default storage to S3; after the autouse `media_root` fixture set it local."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": REGION,
                "default_acl": None,
                "file_overwrite": True,
            },
        },
    }
    # Django resets default_storage on setting_changed; make sure it really did.
    assert isinstance(default_storage, S3Storage), type(default_storage)
    assert default_storage.bucket_name == bucket
    assert default_storage.endpoint_url == s3_endpoint
    return default_storage


def object_bytes(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def download(client, url: str, **headers) -> tuple[int, bytes, object]:
    response = client.get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body, response


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_upload_download_conversion_replace_and_delete_round_trip_through_s3(
    s3_storage, s3_client, bucket, client_for, media_root
):
    manager = client_for(Role.MANAGER)
    body = jpeg_bytes("astronaut")

    # Upload: the original lands in the bucket with exactly the uploaded bytes.
    response = manager.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("astro.jpg", body)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    document = response.json()
    asset_id = document["id"]
    assert document["size"] == len(body)
    assert document["checksum"] == hashlib.sha256(body).hexdigest()
    asset = Asset.objects.get(id=asset_id)
    keys = bucket_keys(s3_client, bucket)
    original_keys = [k for k in keys if asset_id in k and "/original" in k]
    assert original_keys == [asset.file.name], keys
    assert keys == original_keys
    assert object_bytes(s3_client, bucket, asset.file.name) == body

    # Download through the API: same bytes, ETag; a Range gives 206 and the right slice.
    url = f"/api/v1/assets/{asset_id}/content/original"
    status, got, download_response = download(manager, url)
    assert status == 200
    assert got == body
    assert download_response["Content-Type"] == "image/jpeg"
    assert download_response["Content-Length"] == str(len(body))
    assert download_response["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    for header, (start, end) in {"bytes=100-1099": (100, 1099), "bytes=-500": (len(body) - 500, len(body) - 1)}.items():
        status, got, ranged = download(manager, url, HTTP_RANGE=header)
        assert status == 206, header
        assert got == body[start : end + 1], header
        assert ranged["Content-Range"] == f"bytes {start}-{end}/{len(body)}"
        assert ranged["Content-Length"] == str(end - start + 1)

    # Add a conversion: a second object in the bucket, downloadable through the API.
    first = png_bytes("chelsea", size=(160, 106))
    response = manager.post(
        f"/api/v1/assets/{asset_id}/content/thumb",
        {"file": SimpleUploadedFile("thumb.png", first)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    first_key = Conversion.objects.get(asset_id=asset_id, name="thumb").file.name
    assert "/conversions/" in first_key and asset_id in first_key
    assert bucket_keys(s3_client, bucket) == sorted([asset.file.name, first_key])
    assert object_bytes(s3_client, bucket, first_key) == first
    status, got, _ = download(manager, f"/api/v1/assets/{asset_id}/content/thumb")
    assert (status, got) == (200, first)

    # Replace it: the new object is there, the old one was deleted after commit.
    second = png_bytes("coffee", size=(150, 100))
    assert second != first
    response = manager.post(
        f"/api/v1/assets/{asset_id}/content/thumb",
        {"file": SimpleUploadedFile("thumb.png", second)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    second_key = Conversion.objects.get(asset_id=asset_id, name="thumb").file.name
    assert second_key != first_key
    keys = bucket_keys(s3_client, bucket)
    assert first_key not in keys
    assert keys == sorted([asset.file.name, second_key])
    assert object_bytes(s3_client, bucket, second_key) == second
    status, got, _ = download(manager, f"/api/v1/assets/{asset_id}/content/thumb")
    assert (status, got) == (200, second)
    # The original is untouched by the conversion writes.
    assert object_bytes(s3_client, bucket, asset.file.name) == body

    # Delete the asset: no object of it is left in the bucket.
    response = manager.delete(f"/api/v1/assets/{asset_id}")
    assert response.status_code == 204, response.content
    assert not Asset.objects.filter(id=asset_id).exists()
    assert not Conversion.objects.filter(asset_id=asset_id).exists()
    assert [k for k in bucket_keys(s3_client, bucket) if asset_id in k] == []
    assert bucket_keys(s3_client, bucket) == []

    # Nothing went to the local media root.
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_truncated_jpeg_upload_is_400_and_leaves_no_object_in_the_bucket(
    s3_storage, s3_client, bucket, client_for, media_root
):
    creator = client_for(Role.CREATOR)
    response = creator.post(
        "/api/v1/assets",
        {"file": SimpleUploadedFile("broken.jpg", truncated_jpeg_bytes())},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_image"
    assert Asset.objects.count() == 0
    assert bucket_keys(s3_client, bucket) == []
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_save_failing_after_the_upload_deletes_the_object_from_the_bucket(
    s3_storage, s3_client, bucket, make_user, media_root
):
    """The row fails validation after the file was written: the S3 object is removed again."""
    user, _ = make_user(Role.CREATOR)
    with pytest.raises(ValidationError) as failure:
        asset_create_from_bytes(
            account=user.membership.account,
            user=user,
            data_bytes=jpeg_bytes("astronaut", size=(64, 64)),
            name="astro.jpg",
            source_asset_id="NOT-A-HEX-ID",
        )
    assert "source_asset_id" in failure.value.message_dict
    assert Asset.objects.count() == 0
    assert bucket_keys(s3_client, bucket) == []
    assert stored_files(media_root) == []
