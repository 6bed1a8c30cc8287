"""Remove Background's output options (SPEC §10) on real photographs, through the API.

Every test compares pixels with the plain result of the same endpoint (the full-size RGBA
PNG, `reference`): the mask alone, a colour background, a crop with each margin form,
scale and position, a smaller size, a region of interest, WebP, JPEG, the JSON form. Then
saving in every mode keeps the format asked for (rows and files), and each bad value is a
400 naming its parameter that leaves nothing behind.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image

from assets.models import Asset, Conversion, JobStatus
from tests.conftest import assert_error
from tests.graphics.bg_remove.conftest import ENDPOINTS, alpha_bbox, call, make_source, new_files
from tests.graphics.conftest import run_job, snapshot
from tests.images import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_thumbnails")]

COFFEE = (600, 400)  # the cup sits inside the frame: its box has room around it
ROCKET = (640, 427)  # a tall, thin subject


@lru_cache(maxsize=None)
def coffee_jpeg() -> bytes:
    return jpeg_bytes("coffee", COFFEE)


@lru_cache(maxsize=None)
def rocket_jpeg() -> bytes:
    return jpeg_bytes("rocket", ROCKET)


@pytest.fixture
def coffee(creator):
    """A source asset whose original is the coffee photograph (so all three endpoints see
    the same image)."""
    return make_source(creator, name="coffee.jpg", body=coffee_jpeg())


def get(client, endpoint: str, asset, query: dict[str, str], *, image: bytes | None = None, **headers):
    """`call` with the photograph uploaded on the POST endpoints (the asset's own on GET)."""
    saved = dict(client._credentials)
    client.credentials(**saved, **headers)
    try:
        return call(client, endpoint, asset.id, query, image=image or coffee_jpeg(), image_name="coffee.jpg")
    finally:
        client.credentials(**saved)


def decoded(response, fmt: str = "PNG") -> Image.Image:
    assert response.status_code == 200, response.content[:500]
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == fmt
    return image


def headers_box(response) -> tuple[int, int, int, int]:
    return tuple(int(response[f"X-Foreground-{side}"]) for side in ("Left", "Top", "Width", "Height"))


def check_headers(response, image: Image.Image, *, alpha: np.ndarray | None = None) -> None:
    """X-Width/X-Height are the output's size; X-Foreground-* its subject's box there."""
    assert (int(response["X-Width"]), int(response["X-Height"])) == image.size
    assert response["X-Model"] == "u2netp"
    if alpha is None:
        alpha = np.asarray(image.getchannel("A"))
    mask = Image.fromarray(alpha, "L")
    assert headers_box(response) == alpha_bbox(Image.merge("LA", (mask, mask)))


def rgba(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA"), dtype=np.int16)


@pytest.fixture
def reference(creator, coffee):
    """The plain result of each endpoint (the same photograph on all three)."""
    cache: dict[str, Image.Image] = {}

    def of(endpoint: str) -> Image.Image:
        if endpoint not in cache:
            cache[endpoint] = decoded(get(creator, endpoint, coffee, {}))
        return cache[endpoint]

    return of


# --- channels, bg_color, format ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "webp"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_channels_alpha_is_the_alpha_of_the_rgba_result(creator, coffee, reference, endpoint, fmt):
    response = get(creator, endpoint, coffee, {"channels": "alpha", "format": fmt})
    image = decoded(response, fmt.upper())
    assert response["Content-Type"] == f"image/{fmt}"
    mask = np.asarray(image.convert("L"))
    if fmt == "png":
        assert image.mode == "L"
    else:  # WebP has no greyscale: three equal channels, no alpha
        assert image.mode == "RGB"
        assert np.array_equal(np.asarray(image)[..., 0], np.asarray(image)[..., 2])
    expected = np.asarray(reference(endpoint).getchannel("A"))
    assert np.array_equal(mask, expected)
    check_headers(response, image, alpha=mask)


def composite_on(image: Image.Image, color: tuple[int, int, int]) -> np.ndarray:
    """The cut-out composited over `color`, computed here in float."""
    pixels = np.asarray(image, dtype=np.float64)
    alpha = pixels[..., 3:] / 255
    return pixels[..., :3] * alpha + np.array(color, dtype=np.float64) * (1 - alpha)


@pytest.mark.parametrize(("bg_color", "rgb"), [("#ffffff", (255, 255, 255)), ("#0a0", (0, 170, 0)), ("336699", (51, 102, 153))])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bg_color_is_an_opaque_image_of_the_cutout_composited_on_it(creator, coffee, reference, endpoint, bg_color, rgb):
    response = get(creator, endpoint, coffee, {"bg_color": bg_color})
    image = decoded(response)
    assert image.mode == "RGB"  # opaque
    expected = composite_on(reference(endpoint), rgb)
    assert np.abs(np.asarray(image, dtype=np.float64) - expected).max() <= 1.0
    check_headers(response, image, alpha=np.asarray(reference(endpoint).getchannel("A")))


def test_a_translucent_bg_color_keeps_alpha(creator, coffee, reference):
    response = get(creator, "upload", coffee, {"bg_color": "#ff000080"})
    image = decoded(response)
    assert image.mode == "RGBA"
    ref = reference("upload")
    expected = Image.alpha_composite(Image.new("RGBA", ref.size, (255, 0, 0, 128)), ref)
    assert np.abs(rgba(image) - rgba(expected)).max() <= 1
    alpha = np.asarray(image.getchannel("A"))
    assert alpha.min() >= 128


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_webp_decodes_losslessly_to_the_pngs_pixels(creator, coffee, reference, endpoint):
    response = get(creator, endpoint, coffee, {"format": "webp"})
    assert response["Content-Type"] == "image/webp"
    image = decoded(response, "WEBP")
    assert image.mode == "RGBA"
    assert np.array_equal(np.asarray(image), np.asarray(reference(endpoint)))
    check_headers(response, image)


@pytest.mark.parametrize(("query", "rgb"), [({}, (255, 255, 255)), ({"bg_color": "#3366cc"}, (51, 102, 204))])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_jpeg_is_opaque_and_flattened_on_bg_color(creator, coffee, reference, endpoint, query, rgb):
    response = get(creator, endpoint, coffee, {"format": "jpg", **query})
    assert response["Content-Type"] == "image/jpeg"
    image = decoded(response, "JPEG")
    assert image.mode == "RGB"
    difference = np.abs(np.asarray(image, dtype=np.float64) - composite_on(reference(endpoint), rgb))
    assert difference.mean() < 2.0  # JPEG at quality 90
    check_headers(response, image, alpha=np.asarray(reference(endpoint).getchannel("A")))


# --- crop, scale, position ---------------------------------------------------------------


def margin_px(spec: str, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """(top, right, bottom, left) of a crop_margin, computed here: % of the subject's
    height for top and bottom, of its width for right and left."""
    parts = spec.split()
    if len(parts) == 1:
        parts *= 4
    elif len(parts) == 2:
        parts = [parts[0], parts[1], parts[0], parts[1]]
    sides = (box[3], box[2], box[3], box[2])
    return tuple(
        round(float(p[:-1]) / 100 * side) if p.endswith("%") else int(p.removesuffix("px")) for p, side in zip(parts, sides)
    )


@pytest.mark.parametrize(
    "margin",
    [None, "0", "12", "12px", "5%", "8px 20px", "3% 15px", "4px 3% 10px 0", "50%", "500px", "1px 2px 3px 4px"],
)
@pytest.mark.parametrize("endpoint", ["upload", "asset_get"])
def test_crop_is_exactly_the_subjects_box_plus_the_margin(creator, coffee, reference, endpoint, margin):
    query = {"crop": "true"} | ({"crop_margin": margin} if margin is not None else {})
    response = get(creator, endpoint, coffee, query)
    image = decoded(response)
    ref = reference(endpoint)
    left, top, width, height = box = alpha_bbox(ref)
    m_top, m_right, m_bottom, m_left = margin_px(margin or "0", box)
    region = (left - m_left, top - m_top, left + width + m_right, top + height + m_bottom)
    assert image.size == (region[2] - region[0], region[3] - region[1])
    # the same pixels, and transparent where the margin lies beyond the photograph
    assert np.array_equal(np.asarray(image), np.asarray(ref.crop(region)))
    assert headers_box(response) == (m_left, m_top, width, height)
    check_headers(response, image)


def test_crop_margin_beyond_the_image_is_bg_color(creator, coffee, reference):
    response = get(creator, "upload", coffee, {"crop": "true", "crop_margin": "100px", "bg_color": "#00ff00"})
    image = decoded(response)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (0, 255, 0)
    assert image.getpixel((image.width - 1, image.height - 1)) == (0, 255, 0)


@pytest.mark.parametrize(("scale", "fraction"), [("50%", 0.5), ("100%", 1.0), ("25%", 0.25)])
def test_scale_makes_the_subjects_longest_side_that_share_of_the_output(creator, coffee, scale, fraction):
    response = get(creator, "upload", coffee, {"scale": scale}, image=rocket_jpeg())
    image = decoded(response)
    assert image.size == ROCKET
    left, top, width, height = alpha_bbox(image)
    share = max(width / image.width, height / image.height)
    assert abs(share - fraction) <= 2 / min(image.size), (share, fraction)
    # scale implies position=center
    assert abs((left + width / 2) - image.width / 2) <= 2
    assert abs((top + height / 2) - image.height / 2) <= 2
    check_headers(response, image)


@pytest.mark.parametrize(("position", "corner"), [("0% 100%", (0, 1)), ("100% 0%", (1, 0)), ("0%", (0, 0))])
def test_position_puts_the_subjects_box_there(creator, coffee, position, corner):
    response = get(creator, "upload", coffee, {"scale": "50%", "position": position}, image=rocket_jpeg())
    image = decoded(response)
    left, top, width, height = alpha_bbox(image)
    assert abs(left - corner[0] * (image.width - width)) <= 2
    assert abs(top - corner[1] * (image.height - height)) <= 2
    check_headers(response, image)


def test_position_without_scale_moves_the_subject_unscaled(creator, coffee, reference):
    response = get(creator, "upload", coffee, {"position": "center"})
    image = decoded(response)
    ref = reference("upload")
    left, top, width, height = alpha_bbox(ref)
    new_left, new_top, new_width, new_height = alpha_bbox(image)
    assert (new_width, new_height) == (width, height)
    assert (new_left, new_top) == (round((ref.width - width) / 2), round((ref.height - height) / 2))
    assert np.array_equal(
        np.asarray(image.crop((new_left, new_top, new_left + width, new_top + height))),
        np.asarray(ref.crop((left, top, left + width, top + height))),
    )


def test_crop_with_scale_centres_the_subject_in_the_cropped_canvas(creator, coffee, reference):
    response = get(creator, "upload", coffee, {"crop": "true", "crop_margin": "20px", "scale": "50%"})
    image = decoded(response)
    _, _, width, height = alpha_bbox(reference("upload"))
    assert image.size == (width + 40, height + 40)
    left, top, w, h = alpha_bbox(image)
    assert abs(max(w / image.width, h / image.height) - 0.5) <= 2 / min(image.size)
    check_headers(response, image)


# --- size, roi ----------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "limit"), [("preview", 250_000), ("medium", 1_500_000)])
def test_size_reduces_before_the_model_and_agrees_with_the_downscaled_full_result(creator, coffee, size, limit):
    photo = jpeg_bytes("coffee", (1600, 1066))  # 1.7 MP
    full = decoded(get(creator, "upload", coffee, {}, image=photo))
    response = get(creator, "upload", coffee, {"size": size}, image=photo)
    small = decoded(response)
    assert small.width * small.height <= limit
    assert small.width * small.height > 0.98 * limit  # as large as the limit allows
    assert abs(small.width / small.height - 1600 / 1066) < 0.01
    expected = full.resize(small.size, Image.Resampling.LANCZOS)
    alpha_difference = np.abs(rgba(small)[..., 3] - rgba(expected)[..., 3])
    assert alpha_difference.mean() < 2.0, alpha_difference.mean()
    check_headers(response, small)


def test_size_full_and_an_input_under_the_limit_keep_the_size(creator, coffee, reference):
    for query in ({"size": "full"}, {"size": "preview"}):  # 600x400 is under 0.25 MP
        image = decoded(get(creator, "upload", coffee, query))
        assert np.array_equal(np.asarray(image), np.asarray(reference("upload")))


@pytest.mark.parametrize(
    ("roi", "box"),
    [
        ("300 0 600 400", (300, 0, 600, 400)),
        ("300px 0px 600px 400px", (300, 0, 600, 400)),
        ("0% 0% 50% 100%", (0, 0, 300, 400)),
        ("100 50 70% 300px", (100, 50, 420, 300)),
        ("100 50 9000 9000", (100, 50, 600, 400)),  # clipped to the image
    ],
)
@pytest.mark.parametrize("endpoint", ["upload", "asset_get"])
def test_roi_zeroes_alpha_outside_it(creator, coffee, endpoint, roi, box):
    response = get(creator, endpoint, coffee, {"roi": roi})
    image = decoded(response)
    assert image.size == COFFEE
    alpha = np.asarray(image.getchannel("A"))
    inside = np.zeros(alpha.shape, dtype=bool)
    inside[box[1] : box[3], box[0] : box[2]] = True
    assert not alpha[~inside].any()
    assert alpha[inside].max() == 255  # part of the cup is in each of them
    check_headers(response, image)


def test_roi_outside_the_image_leaves_no_subject(creator, coffee):
    response = get(creator, "upload", coffee, {"roi": "700 500 800 600"})
    image = decoded(response)
    assert not np.asarray(image.getchannel("A")).any()
    assert headers_box(response) == (0, 0, 0, 0)


def test_roi_in_pixels_follows_size(creator, coffee):
    photo = jpeg_bytes("coffee", (1600, 1066))
    response = get(creator, "upload", coffee, {"roi": "800 0 1600 1066", "size": "preview"}, image=photo)
    image = decoded(response)
    alpha = np.asarray(image.getchannel("A"))
    half = round(image.width / 2)
    assert not alpha[:, : half - 1].any()
    assert alpha[:, half + 1 :].max() == 255


# --- decontamination ----------------------------------------------------------------------


def test_decontaminate_recolours_only_the_soft_edge(creator, coffee, reference):
    pytest.importorskip("graphics.processing.decontaminate")
    green = make_source(creator, name="green.jpg", body=_green_screen())
    plain = decoded(get(creator, "asset_get", green, {}))
    clean = decoded(get(creator, "asset_get", green, {"decontaminate": "true"}))
    a = np.asarray(plain.getchannel("A"))
    assert np.array_equal(np.asarray(clean.getchannel("A")), a)
    solid, edge = a == 255, (a > 0) & (a < 255)
    assert np.array_equal(np.asarray(clean)[solid], np.asarray(plain)[solid])

    def fringe(image: Image.Image) -> float:  # how green the edge is: G - (R + B) / 2
        pixels = np.asarray(image, dtype=np.float64)[edge]
        return float((pixels[:, 1] - (pixels[:, 0] + pixels[:, 2]) / 2).mean())

    assert fringe(clean) < fringe(plain) - 5, (fringe(clean), fringe(plain))


def _green_screen() -> bytes:
    """The coffee photograph with its background replaced by pure green through the
    model's own mask: the soft edge then blends cup and green."""
    from django.conf import settings

    from graphics.processing import background

    photo = Image.open(io.BytesIO(coffee_jpeg())).convert("RGB")
    cut = background.remove_background(photo, options=background.BgRemoveOptions(), models=settings.BG_REMOVE_MODELS)
    shot = Image.alpha_composite(Image.new("RGBA", photo.size, (0, 200, 0, 255)), Image.merge("RGBA", (*photo.split(), cut.image.getchannel("A"))))
    buffer = io.BytesIO()
    shot.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


# --- the JSON form --------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{}, {"format": "webp", "crop": "true", "crop_margin": "10px"}, {"format": "jpg"}])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_json_form_holds_the_same_image_as_the_binary_one(creator, coffee, endpoint, query):
    binary = get(creator, endpoint, coffee, query)
    assert binary.status_code == 200
    response = get(creator, endpoint, coffee, query, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"data"}
    data = body["data"]
    assert base64.b64decode(data["result_b64"]) == binary.content
    assert data == {
        "result_b64": data["result_b64"],
        "content_type": binary["Content-Type"],
        "width": int(binary["X-Width"]),
        "height": int(binary["X-Height"]),
        "foreground_left": int(binary["X-Foreground-Left"]),
        "foreground_top": int(binary["X-Foreground-Top"]),
        "foreground_width": int(binary["X-Foreground-Width"]),
        "foreground_height": int(binary["X-Foreground-Height"]),
        "model": "u2netp",
    }
    for header in ("X-Model", "X-Width", "X-Height", "X-Foreground-Left", "X-Foreground-Width"):
        assert response[header] == binary[header]


@pytest.mark.parametrize(
    ("accept", "json"),
    [("application/json", True), ("application/json, */*", True), ("*/*", False), ("image/png", False),
     ("image/png, application/json;q=0.5", False), ("image/*;q=0.2, application/json", True)],
)
def test_accept_decides_between_json_and_the_image(creator, coffee, accept, json):
    response = get(creator, "upload", coffee, {}, HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == ("application/json" if json else "image/png")


def test_an_accept_of_the_output_format_gets_it(creator, coffee):
    response = get(creator, "upload", coffee, {"format": "webp"}, HTTP_ACCEPT="image/webp")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


# --- saving keeps the format ----------------------------------------------------------------


FORMATS = {"png": ("image/png", ".png", "PNG"), "webp": ("image/webp", ".webp", "WEBP"), "jpg": ("image/jpeg", ".jpg", "JPEG")}


@pytest.mark.parametrize("fmt", ["webp", "jpg"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_saved_conversion_keeps_the_format_asked_for(creator, coffee, media_root, endpoint, fmt):
    content_type, extension, pil = FORMATS[fmt]
    query = {"format": fmt, "crop": "true", "crop_margin": "5%"}
    returned = get(creator, endpoint, coffee, query)
    before = snapshot(media_root)
    response = get(
        creator, endpoint, coffee, {**query, "mode": "save_image", "disposition": "add_conversion", "conversion_name": "cut"}
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert (response["X-Width"], response["X-Height"]) == (returned["X-Width"], returned["X-Height"])
    conversion = Conversion.objects.get(asset=coffee, name="cut")
    image = Image.open(io.BytesIO(returned.content))
    assert (conversion.content_type, conversion.width, conversion.height) == (content_type, *image.size)
    assert conversion.file.name.endswith(extension)
    files = new_files(before, media_root)
    assert files == {conversion.file.name: returned.content}  # exactly the bytes returned
    assert conversion.size == len(returned.content)


@pytest.mark.parametrize("fmt", ["png", "webp", "jpg"])
def test_a_new_asset_is_named_and_typed_by_its_format(creator, coffee, media_root, fmt):
    content_type, extension, _ = FORMATS[fmt]
    query = {"format": fmt, "channels": "alpha"} if fmt != "jpg" else {"format": fmt, "bg_color": "#eee"}
    returned = get(creator, "asset_get", coffee, query)
    before = snapshot(media_root)
    response = get(creator, "asset_get", coffee, {**query, "mode": "save_image", "disposition": "add_new_asset"})
    assert response.status_code == 200, response.content[:300]
    made = Asset.objects.get(id=response.json()["new_asset_id"])
    assert made.name == f"coffee_bg_removed{extension}"
    assert made.content_type == content_type
    assert made.file.name.endswith(extension)
    assert new_files(before, media_root) == {made.file.name: returned.content}


@pytest.mark.parametrize("disposition", ["add_conversion", "add_new_asset"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_get_image_and_save_stores_exactly_the_bytes_it_returned(
    creator, coffee, media_root, endpoint, disposition, django_capture_on_commit_callbacks
):
    query = {"format": "webp", "size": "preview", "mode": "get_image_and_save", "disposition": disposition}
    if disposition == "add_conversion":
        query["conversion_name"] = "web"
    before = snapshot(media_root)
    response = get(creator, endpoint, coffee, query, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content[:300]
    returned = base64.b64decode(response.json()["data"]["result_b64"])
    staged = new_files(before, media_root)
    assert list(staged.values()) == [returned]
    assert list(staged)[0].endswith("/result.webp")
    job = run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    if disposition == "add_conversion":
        saved = Conversion.objects.get(asset=coffee, name="web")
    else:
        saved = Asset.objects.get(id=job.output[0]["asset_id"])
        assert saved.name == "coffee_bg_removed.webp"
    assert saved.content_type == "image/webp"
    assert new_files(before, media_root) == {saved.file.name: returned}  # the staged file is gone


# --- each bad value -----------------------------------------------------------------------

BAD = [
    ({"format": "gif"}, "format"),
    ({"format": "PNG"}, "format"),
    ({"format": "jpeg"}, "format"),
    ({"channels": "rgb"}, "channels"),
    ({"bg_color": "white"}, "bg_color"),
    ({"bg_color": "#12345"}, "bg_color"),
    ({"bg_color": "#ggg"}, "bg_color"),
    ({"crop": "maybe"}, "crop"),
    ({"crop": "true", "crop_margin": "51%"}, "crop_margin"),
    ({"crop": "true", "crop_margin": "501px"}, "crop_margin"),
    ({"crop": "true", "crop_margin": "1px 2px 3px"}, "crop_margin"),
    ({"crop": "true", "crop_margin": "1 2 3 4 5"}, "crop_margin"),
    ({"crop": "true", "crop_margin": "-5px"}, "crop_margin"),
    ({"crop": "true", "crop_margin": "10em"}, "crop_margin"),
    ({"crop": "true", "crop_margin": ""}, "crop_margin"),
    ({"crop_margin": "10px"}, "crop_margin"),
    ({"scale": "5%"}, "scale"),
    ({"scale": "101%"}, "scale"),
    ({"scale": "50"}, "scale"),
    ({"position": "left"}, "position"),
    ({"position": "10% 20% 30%"}, "position"),
    ({"position": "120% 0%"}, "position"),
    ({"size": "huge"}, "size"),
    ({"roi": "0 0 100"}, "roi"),
    ({"roi": "10 0 5 100"}, "roi"),
    ({"roi": "0% 0% 100% 101%"}, "roi"),
    ({"roi": "a b c d"}, "roi"),
    ({"decontaminate": "please"}, "decontaminate"),
    ({"channels": "alpha", "bg_color": "#fff"}, "bg_color"),
    ({"channels": "alpha", "format": "jpg"}, "format"),
    ({"channels": "alpha", "decontaminate": "true"}, "decontaminate"),
]


def _bad_cases():
    for query, field in BAD:
        label = "&".join(f"{k}={v}" for k, v in query.items())
        yield pytest.param(query, field, id=label)


@pytest.mark.parametrize("mode", ["get_image", "save_image", "get_image_and_save"])
@pytest.mark.parametrize(("query", "field"), list(_bad_cases()))
def test_each_bad_value_is_a_400_naming_the_parameter_and_leaves_nothing(creator, coffee, media_root, query, field, mode):
    endpoint = ENDPOINTS[sum(map(ord, field + mode)) % 3]
    full = {**query, "mode": mode}
    if mode != "get_image":
        full.update(disposition="add_conversion", conversion_name="cut")
    before = snapshot(media_root)
    response = get(creator, endpoint, coffee, full)
    assert_error(response, 400, field=field)
    assert snapshot(media_root) == before


def test_output_options_are_checked_before_the_image(creator, coffee, media_root):
    """A bad option and a bad image: the option is named (nothing was decoded)."""
    response = call(creator, "upload", coffee.id, {"format": "tiff"}, image=b"not an image")
    assert_error(response, 400, field="format")


def test_scale_with_position_original_keeps_the_subjects_centre(creator, coffee):
    plain = decoded(get(creator, "upload", coffee, {}, image=rocket_jpeg()))
    left, top, width, height = alpha_bbox(plain)
    image = decoded(get(creator, "upload", coffee, {"scale": "30%", "position": "original"}, image=rocket_jpeg()))
    new_left, new_top, new_width, new_height = alpha_bbox(image)
    assert abs((new_left + new_width / 2) - (left + width / 2)) <= 2
    assert abs((new_top + new_height / 2) - (top + height / 2)) <= 2
    assert abs(new_height / image.height - 0.3) <= 2 / image.height
