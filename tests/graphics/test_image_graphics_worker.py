"""End to end: an Image Graphics request (SPEC §5) queued by the web process and rendered
by a real django-q2 worker.

Nothing is mocked: the cluster is the `qcluster` fixture of conftest.py (`manage.py
qcluster` sharing the test's database, media folder and broker) and the real model removes
the backgrounds. The tests are transactional, so the worker sees the rows and `on_commit`
queues the task. The cluster is started only after the test has looked at the QUEUED job
(and, in the first test, broken one of its assets), so nothing races a worker.

The request uses all four operations. The images are chosen so the result can be checked
pixel for pixel where no model is involved: the border image is uploaded at the stage's
size and the graphic at its drawn size (so neither is resized), both as lossless PNGs; the
border is opaque at its edges, and the graphic is opaque and drawn last.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from assets.models import Asset, Conversion, Job, JobStatus, Role
from graphics.processing.request import GraphicsRequest, parse_request
from tests.conftest import stored_files
from tests.graphics.conftest import PNG_SIGNATURE, job_wait, upload
from tests.images import encode, jpeg_bytes, photo, png_bytes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_thumbnails"),  # these count files: only the jobs under test make any
]

URL = "/api/v1/assets/addons/image_graphics"
JOB_PATH = URL + "/jobs/{job_id}"
JOB_TIMEOUT = 90  # seconds the job may stay QUEUED once the worker runs

STAGE = (400, 300)  # asset 1's canvas: the stage bg_add builds
SUBJECT = (200, 200)  # astronaut 256x256 resized to width 200
SUBJECT_BOX = (100, 50, 300, 250)  # the subject, centred on the stage
FRAME = 20  # the border image is opaque this far in from each edge, transparent inside
BG_COLOR = "#336699"
BG_RGBA = (0x33, 0x66, 0x99, 255)
GRAPHIC_SIZE = (64, 48)
GRAPHIC_AT = (24, 24)  # inside the frame, left of the subject


# --- images and helpers ---------------------------------------------------------------------


def border_png() -> bytes:
    """A photograph at the stage's size, opaque in a FRAME-wide band, clear inside."""
    frame = photo("coffee", STAGE).convert("RGBA")
    frame.paste((0, 0, 0, 0), (FRAME, FRAME, STAGE[0] - FRAME, STAGE[1] - FRAME))
    return encode(frame, "PNG")


def graphic_png() -> bytes:
    return png_bytes("rocket", GRAPHIC_SIZE)


def decoded(png: bytes) -> np.ndarray:
    """The PNG's pixels as an RGBA array (height, width, 4)."""
    assert png.startswith(PNG_SIGNATURE), png[:16]
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGBA"))


def region(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    left, top, right, bottom = box
    return pixels[top:bottom, left:right]


def graphics_request(asset_1: str, asset_2: str, border_id: str, graphic_id: str, asset_2_options: dict) -> dict:
    return {
        "assets": [
            {
                asset_1: {
                    "options": {
                        "size": {"width": SUBJECT[0]},
                        "canvas": {"size": {"width": STAGE[0], "height": STAGE[1]}},
                        "disposition": {"add_as_conversion": True, "conversion_name": "card"},
                    }
                }
            },
            {asset_2: {"options": asset_2_options}},
        ],
        "operations": [
            {"bg_remove": {"options": {"strength": "medium"}}},
            {"bg_add": {"options": {"color": BG_COLOR}}},
            {"border_add": {"options": {"image_id": border_id}}},
            {
                "graphics_add": {
                    "graphics": [
                        {
                            "type": "image",
                            "options": {
                                "image_id": graphic_id,
                                "position": {"x": GRAPHIC_AT[0], "y": GRAPHIC_AT[1]},
                                "size": {"width": GRAPHIC_SIZE[0], "height": GRAPHIC_SIZE[1]},
                            },
                        }
                    ]
                }
            },
        ],
    }


def setup_assets(creator) -> dict[str, dict]:
    return {
        "astronaut": upload(creator, "astronaut.jpg", jpeg_bytes("astronaut", (256, 256))),
        "chelsea": upload(creator, "chelsea.jpg", jpeg_bytes("chelsea")),  # 451 x 300
        "border": upload(creator, "frame.png", border_png()),
        "graphic": upload(creator, "rocket.png", graphic_png()),
    }


def queue(creator, body: dict) -> str:
    """POST the request: 202, QUEUED, a Location; the job id. The job is untouched yet."""
    response = creator.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    answer = response.json()
    job_id = answer["job_id"]
    assert answer == {"status": "QUEUED", "job_id": job_id}
    assert response["Location"].endswith(JOB_PATH.format(job_id=job_id))
    job = Job.objects.get(id=job_id)
    assert (job.kind, job.status, job.attempts, job.output, job.error, job.finished_at) == (
        "image_graphics", JobStatus.QUEUED, 0, [], [], None
    )
    # the request's canonical form, from which the worker rebuilds the same typed request
    assert job.request == parse_request(body).to_json()
    assert GraphicsRequest.from_json(job.request) == parse_request(body)
    return job_id


def job_documents(client, job_id: str, qcluster) -> dict:
    """Wait on the Image Graphics job URL; GET jobs/{id} must then show the same."""
    document = job_wait(client, job_id, qcluster, JOB_TIMEOUT, path=JOB_PATH)
    general = client.get(f"/api/v1/jobs/{job_id}")
    assert general.status_code == 200, general.content
    assert general.json() == document
    assert document["finished_at"] is not None and document["finished_at"] >= document["created_at"]
    return document


def assert_stage_rendered(png: bytes, *, border: bytes, graphic: bytes, size: tuple[int, int]) -> np.ndarray:
    """What every stage of this request shows: the stage size, opaque (bg_add's colour is
    opaque), the border image stretched over it (its top edge band compared with a plain
    Pillow resize, within rounding), the graphic exactly at its place on top of everything."""
    image = decoded(png)
    assert image.shape == (size[1], size[0], 4)
    assert (image[..., 3] == 255).all()
    band = (0, 0, size[0], FRAME // 2)
    expected = np.asarray(Image.fromarray(decoded(border)).resize(size, Image.Resampling.LANCZOS))
    difference = np.abs(region(image, band).astype(int) - region(expected, band)).mean()
    assert difference <= 2, difference
    box = (*GRAPHIC_AT, GRAPHIC_AT[0] + GRAPHIC_SIZE[0], GRAPHIC_AT[1] + GRAPHIC_SIZE[1])
    assert np.array_equal(region(image, box), decoded(graphic))
    return image


def assert_card(png: bytes, *, border: bytes, graphic: bytes) -> None:
    """Asset 1's result, checked where the model has no say and, loosely, where it has."""
    image = assert_stage_rendered(png, border=border, graphic=graphic, size=STAGE)
    frame = decoded(border)
    # border_add: the frame band is the border image, pixel for pixel (no resize: same size).
    for box in ((0, 0, STAGE[0], FRAME), (0, STAGE[1] - FRAME, STAGE[0], STAGE[1]), (STAGE[0] - FRAME, 0, STAGE[0], STAGE[1])):
        assert np.array_equal(region(image, box), region(frame, box)), box
    # bg_add: inside the frame and outside the subject, only the background colour.
    left_margin = (FRAME, GRAPHIC_AT[1] + GRAPHIC_SIZE[1], SUBJECT_BOX[0], STAGE[1] - FRAME)
    right_margin = (SUBJECT_BOX[2], FRAME, STAGE[0] - FRAME, STAGE[1] - FRAME)
    for box in (left_margin, right_margin):
        assert (region(image, box) == BG_RGBA).all(), box
    # bg_remove: part of the subject's square is now background colour, exactly (alpha 0
    # there), and the astronaut is not. A JPEG photograph never hits #336699 everywhere.
    cleared = (region(image, SUBJECT_BOX) == BG_RGBA).all(axis=-1).mean()
    assert 0.05 < cleared < 0.9, cleared


def asset_2_files(media_root, asset: dict) -> list:
    return [path for path in stored_files(media_root) if asset["id"] in str(path)]


# --- tests ------------------------------------------------------------------------------------


def test_asset_deleted_after_validation_fails_alone_and_the_other_asset_gets_its_conversion(
    client_for, media_root, qcluster
):
    creator, manager = client_for(Role.CREATOR), client_for(Role.MANAGER)
    assets = setup_assets(creator)
    first, second = assets["astronaut"], assets["chelsea"]
    body = graphics_request(
        first["id"], second["id"], assets["border"]["id"], assets["graphic"]["id"], {"disposition": {"create_asset": True}}
    )
    job_id = queue(creator, body)
    queued = creator.get(JOB_PATH.format(job_id=job_id)).json()
    assert (queued["status"], queued["output"], queued["error"], queued["finished_at"]) == ("QUEUED", [], [], None)

    # Validation passed; now asset 2 goes away before any worker exists.
    deleted = manager.delete(f"/api/v1/assets/{second['id']}")
    assert deleted.status_code == 204, deleted.content
    assert not Asset.objects.filter(id=second["id"]).exists()
    assert asset_2_files(media_root, second) == []
    files_before = stored_files(media_root)
    assert len(files_before) == 3  # the originals of asset 1, the border and the graphic
    assert Job.objects.get(id=job_id).status == JobStatus.QUEUED

    qcluster.start()
    document = job_documents(creator, job_id, qcluster)

    assert document["status"] == "ERROR", document
    assert document["output"] == [{"name": "card", "asset_id": first["id"]}]
    [entry] = document["error"]
    assert set(entry) == {"name", "asset_id", "error"}
    assert (entry["name"], entry["asset_id"]) == (None, second["id"])
    assert isinstance(entry["error"], str) and second["id"] in entry["error"], entry
    assert Job.objects.get(id=job_id).attempts == 1

    # Asset 1: the conversion, listed, downloadable, the rendered stage.
    conversion = creator.get(f"/api/v1/assets/{first['id']}").json()["conversions"]
    assert list(conversion) == ["card"]
    download = creator.get(f"/api/v1/assets/{first['id']}/content/card")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    png = b"".join(download.streaming_content)
    assert (conversion["card"]["content_type"], conversion["card"]["size"]) == ("image/png", len(png))
    assert (conversion["card"]["width"], conversion["card"]["height"]) == STAGE
    assert_card(png, border=border_png(), graphic=graphic_png())

    # Asset 2: nothing made for it, and nothing left anywhere but the one conversion file.
    assert Asset.objects.count() == 3
    assert not Asset.objects.filter(source_asset_id=second["id"]).exists()
    assert not Asset.objects.filter(name__endswith="_graphics.png").exists()
    assert list(Conversion.objects.values_list("asset_id", "name")) == [(first["id"], "card")]
    files = stored_files(media_root)
    new_files = [path for path in files if path not in files_before]
    assert len(files) == 4 and len(new_files) == 1
    assert new_files[0].read_bytes() == png
    assert asset_2_files(media_root, second) == []


def test_request_whose_assets_all_succeed_ends_ok_with_a_conversion_and_a_new_asset(client_for, media_root, qcluster):
    creator = client_for(Role.CREATOR)
    assets = setup_assets(creator)
    first, second = assets["astronaut"], assets["chelsea"]
    crop = {"left": 100, "top": 0, "right": 400, "bottom": 300}  # chelsea's 300x300 middle
    body = graphics_request(
        first["id"],
        second["id"],
        assets["border"]["id"],
        assets["graphic"]["id"],
        {"crop": crop, "disposition": {"create_asset": True}},
    )
    job_id = queue(creator, body)
    files_before = stored_files(media_root)

    qcluster.start()
    document = job_documents(creator, job_id, qcluster)

    assert document["status"] == "OK", document
    assert document["error"] == []
    assert len(document["output"]) == 2
    new_id = document["output"][1]["asset_id"]
    assert document["output"] == [{"name": "card", "asset_id": first["id"]}, {"name": None, "asset_id": new_id}]
    assert new_id not in {asset["id"] for asset in assets.values()}
    assert Job.objects.get(id=job_id).attempts == 1

    card = b"".join(creator.get(f"/api/v1/assets/{first['id']}/content/card").streaming_content)
    assert_card(card, border=border_png(), graphic=graphic_png())

    new = creator.get(f"/api/v1/assets/{new_id}").json()
    assert new["name"] == "chelsea_graphics.png"
    assert new["source_asset_id"] == second["id"]
    assert (new["data"], new["conversions"]) == ({}, {})
    download = creator.get(f"/api/v1/assets/{new_id}/content/original")
    assert download.status_code == 200
    png = b"".join(download.streaming_content)
    # No canvas: bg_add's stage is the cropped subject's size.
    assert (new["content_type"], new["size"], new["width"], new["height"]) == ("image/png", len(png), 300, 300)
    assert_stage_rendered(png, border=border_png(), graphic=graphic_png(), size=(300, 300))
    assert creator.get(f"/api/v1/assets/{second['id']}/lineage").json()["descendants"] == [new_id]
    assert creator.get(f"/api/v1/assets/{second['id']}").json()["conversions"] == {}

    assert Asset.objects.count() == 5
    assert Conversion.objects.count() == 1
    files = stored_files(media_root)
    assert sorted(path.read_bytes() for path in files if path not in files_before) == sorted([card, png])
    assert len(files) == len(files_before) + 2 == 6
