"""The asset's name is the upload's base name: directories and ".." in a sent file name
are dropped and nothing is written outside the media root; downloads offer that name."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.models import Asset
from tests.assets.conftest import ASSETS_URL, conversion_url, upload
from tests.conftest import stored_files
from tests.images import jpeg_bytes

pytestmark = pytest.mark.django_db


# --- the file name -----------------------------------------------------------------------------


def multipart_body(filename: str, content: bytes, boundary: str = "TestBoundary7MA4YWxk") -> tuple[bytes, str]:
    """A hand-made multipart body, so the client does not clean the filename first."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + content + tail, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "sent_name",
    ["../../etc/x.jpg", "/etc/x.jpg", "..\\..\\windows\\x.jpg", "a/b/c/x.jpg"],
)
def test_the_asset_name_is_the_uploads_base_name(sent_name, admin_client_api, media_root, tmp_path):
    content = jpeg_bytes()
    body, content_type = multipart_body(sent_name, content)

    response = admin_client_api.generic("POST", ASSETS_URL, body, content_type=content_type)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "x.jpg"
    asset = Asset.objects.get(id=response.json()["id"])
    assert asset.name == "x.jpg"
    stored = Path(asset.file.path).resolve()
    assert stored.is_relative_to(media_root.resolve())
    assert stored.read_bytes() == content
    assert [p.resolve() for p in stored_files(media_root)] == [stored]
    # Nothing was written next to the media root by following the "..".
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media"]
    assert not (tmp_path / "etc").exists()


def test_the_asset_name_via_the_test_client_is_the_base_name(admin_client_api, media_root):
    response = upload(admin_client_api, "../../etc/x.jpg", jpeg_bytes())
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "x.jpg"
    assert Path(Asset.objects.get(id=response.json()["id"]).file.path).resolve().is_relative_to(media_root.resolve())


def test_download_of_the_original_uses_the_asset_name(admin_client_api, media_root):
    response = upload(admin_client_api, "my photo.jpg", jpeg_bytes())
    assert response.status_code == 201, response.content
    download = admin_client_api.get(conversion_url(response.json()["id"], "original"))
    assert "my photo.jpg" in download["Content-Disposition"]
