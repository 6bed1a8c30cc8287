from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset
from tests.conftest import stored_files
from tests.images import jpeg_bytes


def test_upload_then_download_returns_the_same_bytes(admin_client_api, media_root):
    body = jpeg_bytes("astronaut")
    response = admin_client_api.post(
        "/api/v1/assets", {"file": SimpleUploadedFile("astro.jpg", body)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    asset = Asset.objects.get(id=response.json()["id"])
    assert (asset.width, asset.height) == (512, 512)
    assert len(stored_files(media_root)) == 1
    download = admin_client_api.get(f"/api/v1/assets/{asset.id}/content/original")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == body
