"""Running an Image Graphics job: each disposition stores what was asked (a conversion, a
new derived asset, both), and the rendered PNG has the canvas, the cropped photograph,
the border and the graphic exactly where the request put them."""

from __future__ import annotations

import numpy as np
import pytest

from assets.models import Asset, Conversion, JobStatus
from tests.graphics.conftest import decode_png, run_job
from tests.graphics.image_graphics.conftest import (
    body_for,
    border_png,
    job_url,
    make_source,
    new_assets_of,
    queue,
    read_file,
    source_pixels,
)

pytestmark = pytest.mark.django_db


# --- running the job -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disposition, conversion, new_asset",
    [
        ({"add_as_conversion": True, "conversion_name": "thumb"}, True, False),
        ({"create_asset": True}, False, True),
        ({"add_as_conversion": True, "conversion_name": "thumb", "create_asset": True}, True, True),
        ({}, False, True),
        ({"add_as_conversion": False, "create_asset": False}, False, True),
    ],
    ids=["conversion_only", "create_asset_only", "both", "neither_given", "both_false"],
)
def test_dispositions_store_what_was_asked(
    creator, source, media_root, django_capture_on_commit_callbacks, disposition, conversion, new_asset
):
    job = queue(creator, body_for(source.id, {"size": {"width": 64}, "disposition": disposition}))
    assets_before = set(Asset.objects.values_list("id", flat=True))
    job = run_job(job.id, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.OK, job.error
    assert job.error == []
    assert job.finished_at is not None
    expected_output = []
    source.refresh_from_db()
    if conversion:
        row = Conversion.objects.get(asset=source, name="thumb")
        assert row.content_type == "image/png"
        assert (row.width, row.height) == (64, 64)
        png = read_file(row.file.name)
        assert len(png) == row.size
        assert decode_png(png).size == (64, 64)
        expected_output.append({"name": "thumb", "asset_id": source.id})
    else:
        assert not Conversion.objects.filter(asset=source).exists()
    created = [a for a in Asset.objects.all() if a.id not in assets_before]
    if new_asset:
        assert len(created) == 1
        made = created[0]
        assert made.name == "astronaut_graphics.png"
        assert made.source_asset_id == source.id
        assert made.content_type == "image/png"
        assert (made.width, made.height) == (64, 64)
        assert made.account == source.account and made.created_by == creator.user
        assert decode_png(read_file(made.file.name)).size == (64, 64)
        expected_output.append({"name": None, "asset_id": made.id})
        lineage = creator.get(f"/api/v1/assets/{source.id}/lineage").json()
        assert lineage["descendants"] == [made.id]
        assert creator.get(f"/api/v1/assets/{made.id}/lineage").json()["ancestors"] == [source.id]
    else:
        assert created == []
    assert job.output == expected_output

    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        document = creator.get(url).json()
        assert document["status"] == "OK"
        assert document["output"] == expected_output
        assert document["error"] == []
        assert document["finished_at"]


def test_rendered_png_has_the_canvas_colour_the_cropped_photo_and_the_graphic(
    creator, source, red_graphic, django_capture_on_commit_callbacks
):
    """canvas 300x200 #00ff00; a 100x100 crop centred at (100, 50); a red 10x10 graphic at
    the bottom-right corner, drawn after the canvas was built."""
    options = {
        "crop": {"left": 50, "top": 40, "right": 150, "bottom": 140},
        "canvas": {"size": {"width": 300, "height": 200}, "color": "#00ff00"},
        "disposition": {"add_as_conversion": True, "conversion_name": "staged"},
    }
    graphics = [{"type": "image", "options": {"image_id": red_graphic.id, "position": {"x": 290, "y": 190}, "size": {"width": 10, "height": 10}}}]
    job = run_job(queue(creator, body_for(source.id, options, [{"graphics_add": {"graphics": graphics}}])).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error

    image = decode_png(read_file(Conversion.objects.get(asset=source, name="staged").file.name)).convert("RGBA")
    assert image.size == (300, 200)
    pixels = np.asarray(image)
    assert tuple(pixels[0, 0]) == (0, 255, 0, 255)  # the stage's corner
    assert tuple(pixels[199, 0]) == (0, 255, 0, 255)
    assert tuple(pixels[49, 99]) == (0, 255, 0, 255)  # just outside the subject
    # The subject: exactly the cropped photograph, opaque, at (100, 50).
    original = source_pixels()
    assert np.array_equal(pixels[50:150, 100:200, :3], original[40:140, 50:150])
    assert (pixels[50:150, 100:200, 3] == 255).all()
    assert tuple(pixels[100, 150, :3]) == tuple(original[90, 100])  # the stage's centre
    # The graphic at the bottom-right corner.
    assert (pixels[190:200, 290:300] == (255, 0, 0, 255)).all()
    assert tuple(pixels[189, 289]) == (0, 255, 0, 255)


def test_bg_add_size_stage_with_position_and_border(creator, source, django_capture_on_commit_callbacks):
    border = make_source(creator, name="border.png", body=border_png())
    options = {"crop": {"left": 0, "top": 0, "right": 100, "bottom": 100}, "position": {"x": 140, "y": 130}}
    operations = [
        {"bg_add": {"options": {"color": "#0000ff", "size": {"width": 250, "height": 240}}}},
        {"border_add": {"options": {"image_id": border.id}}},
    ]
    job = run_job(queue(creator, body_for(source.id, options, operations)).id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.OK, job.error
    (made,) = new_assets_of(source)
    pixels = np.asarray(decode_png(read_file(made.file.name)).convert("RGBA"))
    assert pixels.shape == (240, 250, 4)
    assert tuple(pixels[0, 0]) == (255, 0, 0, 255)  # the border's ring, stretched to the stage
    assert tuple(pixels[239, 249]) == (255, 0, 0, 255)
    assert tuple(pixels[90, 90]) == (0, 0, 255, 255)  # the background colour inside the ring
    # The ring, stretched 6.25x, covers x < 50 and x >= 200 (y < 48, y >= 192); LANCZOS
    # reaches ~19 px further in. Where the ring is clear the subject is the photo, exactly.
    assert np.array_equal(pixels[130:170, 140:175, :3], source_pixels()[0:40, 0:35])
    assert (pixels[130:170, 140:175, 3] == 255).all()
    assert tuple(pixels[230, 230]) == (255, 0, 0, 255)  # the ring covers the subject's corner
