"""Renditions (SPEC §9): pixels, formats, made once, served like any content, lifecycle."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from PIL import Image

from assets.jobs import job_ring
from assets.models import Asset, Job, JobStatus, Rendition, Role
from assets.services import asset_delete, conversion_delete
from assets.services.renditions import JOB_KIND_THUMBNAIL, THUMBNAIL_ACCEPT
from core.renditions import RenditionQuery, accepts
from tests.conftest import add_conversion, assert_error, make_asset, stored_files
from tests.images import cmyk_jpeg_bytes, encode, exif_rotated_jpeg_bytes, jpeg_bytes, photo, png16_bytes

BROWSER = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


def url(asset, name="original", **query) -> str:
    from urllib.parse import urlencode

    return f"/api/v1/assets/{asset.id}/content/{name}?{urlencode(query)}"


def get(client, asset, name="original", accept="", **query):
    return client.get(url(asset, name, **query), HTTP_ACCEPT=accept)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def opened(response) -> Image.Image:
    image = Image.open(io.BytesIO(body(response)))
    image.load()
    return image


def rendition_files(media_root):
    return [p for p in stored_files(media_root) if "/renditions/" in p.as_posix()]


@pytest.fixture
def photo_asset(creator):
    """A real photograph, 1200x900 JPEG."""
    return make_asset(creator, "coffee.jpg", jpeg_bytes("coffee", (1200, 900)))


def rgba_png() -> bytes:
    """A 400x300 photograph with a transparent left half and a half-transparent band."""
    image = photo("astronaut", (400, 300)).convert("RGBA")
    alpha = np.full((300, 400), 255, np.uint8)
    alpha[:, :200] = 0
    alpha[:, 200:220] = 128
    image.putalpha(Image.fromarray(alpha, "L"))
    return encode(image, "PNG")


# --- sizes for each fit -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, size",
    [
        ({"w": 300}, (300, 225)),
        ({"h": 300}, (400, 300)),
        ({"w": 300, "h": 300}, (300, 225)),
        ({"w": 300, "h": 300, "fit": "contain"}, (300, 225)),
        ({"w": 300, "h": 300, "fit": "cover"}, (300, 300)),
        ({"w": 400, "h": 100, "fit": "cover"}, (400, 100)),
        ({"w": 300, "h": 300, "fit": "fill"}, (300, 300)),
        ({"w": 5, "h": 900, "fit": "fill"}, (5, 900)),
        ({"w": 3000}, (1200, 900)),  # never upscaled
        ({"w": 3000, "h": 3000, "fit": "cover"}, (900, 900)),  # the largest square the source fills
        ({"w": 2400, "h": 1800, "fit": "fill"}, (2400, 1800)),  # fill may upscale
        ({"format": "png"}, (1200, 900)),
    ],
)
def test_size_for_each_fit(creator, photo_asset, query, size):
    response = get(creator, photo_asset, format=query.pop("format", "jpeg"), **query)
    assert response.status_code == 200, body(response)
    image = opened(response)
    assert image.size == size
    assert (response["X-Width"] if "X-Width" in response else None) in (None, str(size[0]))


def test_contain_matches_a_direct_resize_and_cover_crops_the_centre(creator, photo_asset):
    source = Image.open(io.BytesIO((photo_asset.file.open("rb").read()))).convert("RGB")
    contained = opened(get(creator, photo_asset, w=300, format="png")).convert("RGB")
    expected = np.asarray(source.resize((300, 225), Image.Resampling.LANCZOS), dtype=np.int16)
    assert np.abs(np.asarray(contained, dtype=np.int16) - expected).mean() < 2.0
    covered = opened(get(creator, photo_asset, w=300, h=300, fit="cover", format="png")).convert("RGB")
    centre = source.crop((150, 0, 1050, 900)).resize((300, 300), Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(covered, dtype=np.int16) - np.asarray(centre, dtype=np.int16)).mean() < 2.0


def test_exif_rotated_source_is_upright(creator):
    asset = make_asset(creator, "turned.jpg", exif_rotated_jpeg_bytes("chelsea", 6))
    assert (asset.width, asset.height) == (300, 451)  # the upright size
    image = opened(get(creator, asset, h=150, format="png"))
    assert image.size == (100, 150)
    upright = photo("chelsea").transpose(Image.Transpose.ROTATE_270).resize((100, 150), Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(image.convert("RGB"), dtype=np.int16) - np.asarray(upright, dtype=np.int16)).mean() < 8


def test_cmyk_and_16_bit_sources_become_srgb_8_bit(creator):
    cmyk = make_asset(creator, "coffee-cmyk.jpg", cmyk_jpeg_bytes("coffee"))
    image = opened(get(creator, cmyk, w=300, format="png"))
    assert image.mode == "RGB" and image.size == (300, 200)
    expected = photo("coffee").resize((300, 200), Image.Resampling.LANCZOS)
    assert np.abs(np.asarray(image, dtype=np.int16) - np.asarray(expected, dtype=np.int16)).mean() < 12
    deep = make_asset(creator, "chelsea16.png", png16_bytes("chelsea"))
    image = opened(get(creator, deep, w=200, format="png"))
    assert image.mode in ("RGB", "L") and image.size == (200, 133)
    assert np.asarray(image).max() > 100  # scaled from 16 bits, not truncated to black


# --- formats and alpha -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, mime", [("webp", "image/webp"), ("avif", "image/avif"), ("png", "image/png")])
def test_alpha_is_kept_in_webp_avif_and_png(creator, fmt, mime):
    asset = make_asset(creator, "cutout.png", rgba_png())
    response = get(creator, asset, w=200, format=fmt)
    assert response["Content-Type"] == mime
    image = opened(response).convert("RGBA")
    alpha = np.asarray(image.getchannel("A"))
    assert image.size == (200, 150)
    assert alpha[:, :90].max() <= 8  # the transparent half
    assert alpha[:, 120:].min() >= 240  # the opaque half


def test_jpeg_of_alpha_is_flattened_on_white_or_on_bg(creator):
    asset = make_asset(creator, "cutout.png", rgba_png())
    white = np.asarray(opened(get(creator, asset, w=200, format="jpeg")).convert("RGB"), dtype=np.int16)
    assert white.shape == (150, 200, 3)
    assert np.abs(white[:, :90] - 255).max() <= 6
    red = opened(get(creator, asset, w=200, format="jpeg", bg="#f00")).convert("RGB")
    left = np.asarray(red, dtype=np.int16)[:, :90]
    assert np.abs(left - [255, 0, 0]).mean() < 6
    on_png = opened(get(creator, asset, w=200, format="png", bg="#00ff00"))
    assert on_png.mode == "RGB"  # flattened: no alpha left
    assert np.abs(np.asarray(on_png, dtype=np.int16)[:, :90] - [0, 255, 0]).max() == 0


@pytest.mark.parametrize(
    "accept, has_alpha, mime",
    [
        (BROWSER, False, "image/avif"),
        ("image/webp,*/*", False, "image/webp"),
        ("image/avif;q=0,image/webp", False, "image/webp"),
        ("*/*", False, "image/jpeg"),
        ("", False, "image/jpeg"),
        ("*/*", True, "image/png"),
        ("image/webp", True, "image/webp"),
    ],
)
def test_format_auto_follows_accept(creator, photo_asset, accept, has_alpha, mime):
    asset = make_asset(creator, "cutout.png", rgba_png()) if has_alpha else photo_asset
    response = get(creator, asset, accept=accept, w=100)
    assert response.status_code == 200
    assert response["Content-Type"] == mime
    assert response["Vary"] == "Accept"
    assert opened(response).format == {"image/avif": "AVIF", "image/webp": "WEBP", "image/jpeg": "JPEG", "image/png": "PNG"}[mime]


def test_explicit_format_does_not_vary_on_accept(creator, photo_asset):
    response = get(creator, photo_asset, accept=BROWSER, w=100, format="jpeg")
    assert response["Content-Type"] == "image/jpeg" and "Vary" not in response or "Accept" not in response.get("Vary", "")


def test_quality_changes_the_bytes(creator, photo_asset):
    low = body(get(creator, photo_asset, w=600, format="jpeg", q=10))
    high = body(get(creator, photo_asset, w=600, format="jpeg", q=95))
    assert len(low) * 3 < len(high)


def test_accepts_reads_q_values():
    assert accepts("image/avif,image/webp", "image/webp")
    assert not accepts("image/avif;q=0", "image/avif")
    assert not accepts("*/*", "image/webp")
    assert accepts("text/html, IMAGE/WEBP;q=0.5", "image/webp")


# --- made once, served like any content -------------------------------------------------------


def test_miss_then_hit_one_row_one_file(creator, photo_asset, media_root):
    first = get(creator, photo_asset, w=256, format="webp")
    assert first["X-Rendition"] == "miss"
    data = body(first)
    second = get(creator, photo_asset, w=256, format="webp")
    assert second["X-Rendition"] == "hit"
    assert body(second) == data
    assert first["ETag"] == second["ETag"]
    assert "max-age" in second["Cache-Control"]
    assert Rendition.objects.count() == 1
    [rendition] = Rendition.objects.all()
    assert rendition_files(media_root) == [media_root / rendition.file.name]
    assert (media_root / rendition.file.name).read_bytes() == data
    assert (rendition.width, rendition.height, rendition.size) == (256, 192, len(data))


def test_equivalent_queries_share_one_rendition(creator, photo_asset):
    get(creator, photo_asset, w=3000, format="png")  # capped at the source's 1200
    get(creator, photo_asset, format="png")
    get(creator, photo_asset, w=1200, h=4000, format="png")
    assert Rendition.objects.count() == 1
    get(creator, photo_asset, accept="image/webp", w=100)
    get(creator, photo_asset, w=100, format="webp")  # auto resolved to webp: the same file
    assert Rendition.objects.count() == 2


def test_conditional_and_range_requests_on_a_rendition(creator, photo_asset):
    first = get(creator, photo_asset, w=300, format="png")
    data = body(first)
    not_modified = creator.get(url(photo_asset, w=300, format="png"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    part = creator.get(url(photo_asset, w=300, format="png"), HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert body(part) == data[10:20]
    assert part["Content-Range"] == f"bytes 10-19/{len(data)}"


@pytest.mark.django_db(transaction=True)
def test_racing_misses_make_one_row_and_one_file(client_for, media_root):
    """Threads that ask for the same missing rendition at once (real transactions; the
    asset row lock on PostgreSQL, the write lock on SQLite): one row, one file."""
    creator = client_for(Role.CREATOR)
    asset = make_asset(creator, "coffee.jpg", jpeg_bytes("coffee", (1200, 900)))
    from assets.services.renditions import rendition_get

    for round_ in range(3):
        query = RenditionQuery(w=200 + round_, format="webp")
        barrier, results, errors = threading.Barrier(4), [], []

        def ask() -> None:
            try:
                barrier.wait(timeout=10)
                served = rendition_get(asset=Asset.objects.get(pk=asset.pk), name="original", query=query, accept="")
                results.append(served)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len({served.rendition.pk for served in results}) == 1
    assert Rendition.objects.count() == 3
    files = rendition_files(media_root)
    assert sorted(files) == sorted(media_root / r.file.name for r in Rendition.objects.all())


# --- limits and errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ({"w": "0"}, "w"),
        ({"w": "4097"}, "w"),
        ({"w": "abc"}, "w"),
        ({"h": "-5"}, "h"),
        ({"w": "1.5"}, "w"),
        ({"fit": "crop"}, "fit"),
        ({"format": "gif"}, "format"),
        ({"q": "0"}, "q"),
        ({"q": "101"}, "q"),
        ({"bg": "red"}, "bg"),
        ({"bg": ""}, "bg"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(creator, photo_asset, query, field, media_root):
    response = creator.get(f"/api/v1/assets/{photo_asset.id}/content/original", query)
    assert_error(response, 400, field=field)
    assert not Rendition.objects.exists() and rendition_files(media_root) == []


def test_max_side_setting_caps_w_and_h(creator, photo_asset, settings):
    settings.ASSETS_RENDITION_MAX_SIDE = 500
    assert_error(get(creator, photo_asset, w=501), 400, field="w")
    image = opened(get(creator, photo_asset, format="png"))  # no size: capped too
    assert max(image.size) == 500


def test_a_user_may_read_renditions_and_other_accounts_get_404(client_for, photo_asset):
    reader = client_for(Role.USER)
    response = get(reader, photo_asset, w=64, format="png")
    assert response.status_code == 200 and opened(response).size == (64, 48)
    outsider = client_for(Role.ADMIN, account="other")
    assert_error(get(outsider, photo_asset, w=64), 404)
    assert_error(get(reader, photo_asset, "nope", w=64), 404)


def test_unknown_parameters_alone_serve_the_file_itself(creator, photo_asset):
    response = creator.get(url(photo_asset, v="3"))
    assert "X-Rendition" not in response
    assert body(response) == photo_asset.file.open("rb").read()


# --- lifecycle ------------------------------------------------------------------------------


def test_replacing_a_conversion_deletes_its_renditions(creator, photo_asset, media_root, django_capture_on_commit_callbacks):
    add_conversion(photo_asset, "bg_removed", rgba_png())
    get(creator, photo_asset, "bg_removed", w=100, format="png")
    get(creator, photo_asset, "original", w=100, format="png")
    assert Rendition.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        add_conversion(photo_asset, "bg_removed", jpeg_bytes("rocket", (300, 200)))
    assert list(Rendition.objects.values_list("source", flat=True)) == ["original"]
    assert len(rendition_files(media_root)) == 1
    image = opened(get(creator, photo_asset, "bg_removed", w=150, format="png"))
    assert image.size == (150, 100)  # made from the new file
    with django_capture_on_commit_callbacks(execute=True):
        conversion_delete(user=creator.user, asset_id=photo_asset.id, name="bg_removed")
    assert list(Rendition.objects.values_list("source", flat=True)) == ["original"]
    assert len(rendition_files(media_root)) == 1


def test_deleting_the_asset_deletes_every_rendition(client_for, photo_asset, media_root, django_capture_on_commit_callbacks):
    manager = client_for(Role.MANAGER)
    add_conversion(photo_asset, "bg_removed", rgba_png())
    for name in ("original", "bg_removed"):
        for w in (50, 60):
            get(manager, photo_asset, name, w=w, format="webp")
    assert Rendition.objects.count() == 4 and len(rendition_files(media_root)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        asset_delete(user=manager.user, asset_id=photo_asset.id)
    assert not Rendition.objects.exists()
    assert stored_files(media_root) == []


def test_the_cap_evicts_the_least_recently_used(creator, photo_asset, settings, media_root, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    settings.ASSETS_RENDITIONS_PER_ASSET = 3
    for w in (10, 20, 30):
        get(creator, photo_asset, w=w, format="png")
    base = timezone.now() - timedelta(hours=1)
    for offset, w in enumerate((10, 20, 30)):
        Rendition.objects.filter(spec__startswith=f"{w}x").update(used_at=base + timedelta(minutes=offset))
    assert get(creator, photo_asset, w=10, format="png")["X-Rendition"] == "hit"  # 10 is used again
    with django_capture_on_commit_callbacks(execute=True):
        get(creator, photo_asset, w=40, format="png")
    specs = sorted(int(s.split("x")[0]) for s in Rendition.objects.values_list("spec", flat=True))
    assert specs == [10, 30, 40]  # 20 was the least recently used
    assert len(rendition_files(media_root)) == 3


# --- thumbnails -----------------------------------------------------------------------------


def test_upload_queues_a_thumbnail_job_that_makes_it(creator, media_root, django_capture_on_commit_callbacks):
    response = creator.post("/api/v1/assets", {"file": io.BytesIO(jpeg_bytes("coffee", (1200, 900)))}, format="multipart")
    assert response.status_code == 201
    document = response.json()
    assert document["thumbnail_url"].endswith(f"/api/v1/assets/{document['id']}/content/original?w=256&h=256")
    [job] = Job.objects.filter(kind=JOB_KIND_THUMBNAIL)
    assert job.request == {"asset_id": document["id"], "source": "original"}
    assert job_ring(job.id) == JobStatus.OK
    [rendition] = Rendition.objects.all()
    assert (rendition.width, rendition.height, rendition.content_type) == (256, 192, "image/avif")
    # the grid's first request is a hit
    served = creator.get(document["thumbnail_url"], HTTP_ACCEPT=THUMBNAIL_ACCEPT)
    assert served["X-Rendition"] == "hit" and body(served) == (media_root / rendition.file.name).read_bytes()


def test_a_heic_original_gets_a_browser_viewable_thumbnail(creator):
    heic = encode(photo("rocket"), "HEIF", quality=80)
    asset = make_asset(creator, "rocket.heic", heic)
    assert asset.content_type in ("image/heic", "image/heif")
    [job] = Job.objects.filter(kind=JOB_KIND_THUMBNAIL, request__asset_id=asset.id)
    assert job_ring(job.id) == JobStatus.OK
    response = get(creator, asset, accept="image/webp,*/*", w=256, h=256)
    assert response["Content-Type"] == "image/webp"
    assert opened(response).size == (256, 171)


def test_a_saved_conversion_queues_its_thumbnail(photo_asset):
    add_conversion(photo_asset, "bg_removed", rgba_png())
    job = Job.objects.get(kind=JOB_KIND_THUMBNAIL, request__source="bg_removed")
    assert job_ring(job.id) == JobStatus.OK
    rendition = Rendition.objects.get(source="bg_removed")
    assert (rendition.width, rendition.height) == (256, 192)


def test_a_thumbnail_job_for_a_deleted_asset_ends_ok_with_nothing(creator, photo_asset, client_for):
    job = Job.objects.get(kind=JOB_KIND_THUMBNAIL, request__asset_id=photo_asset.id)
    asset_delete(user=client_for(Role.MANAGER).user, asset_id=photo_asset.id)
    assert job_ring(job.id) == JobStatus.OK
    assert not Rendition.objects.exists()


def test_renditions_command(creator, photo_asset, media_root, django_capture_on_commit_callbacks):
    other = make_asset(creator, "rocket.jpg", jpeg_bytes("rocket", (640, 427)))
    out = io.StringIO()
    call_command("renditions", "--only-missing", stdout=out, stderr=io.StringIO())
    assert Rendition.objects.count() == 2
    assert "2 made" in out.getvalue()
    call_command("renditions", "--only-missing", stdout=(out := io.StringIO()), stderr=io.StringIO())
    assert "0 made" in out.getvalue() and Rendition.objects.count() == 2
    get(creator, photo_asset, w=99, format="png")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("renditions", "--purge", "--asset", photo_asset.id, stdout=(out := io.StringIO()), stderr=io.StringIO())
    # the asset's renditions were purged and its thumbnail made again; the other's kept
    assert sorted(Rendition.objects.values_list("asset_id", flat=True)) == sorted([photo_asset.id, other.id])
    assert len(rendition_files(media_root)) == 2
    with pytest.raises(Exception):
        call_command("renditions", "--asset", "0" * 32, stdout=io.StringIO(), stderr=io.StringIO())
