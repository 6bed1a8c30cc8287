"""graphics.processing.decontaminate: the soft edge recoloured with the estimated
foreground colour (SPEC §10 `decontaminate`).

Green-screen shots are made from real photographs and a soft mask: the real u2netp mask
of the astronaut (its levels stretched so the subject's inside is opaque), and a
feathered ellipse over the cat at 2400x1600 (which takes the reduced-resolution path).
The shot is the photograph composited over pure green with that alpha; the result and
the shot are each composited on white with the same alpha, and the green share in the
soft edge (mean of G - (R+B)/2) is compared.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from graphics.processing import background
from graphics.processing.decontaminate import estimate_foreground
from tests.graphics.conftest import MODEL
from tests.images import photo

GREEN = np.array([0, 255, 0], np.float32)


def shoot_on_green(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[:, :, None].astype(np.float32) / 255
    return np.rint(foreground * a + GREEN * (1 - a)).astype(np.uint8)


def on_white(colours: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[:, :, None].astype(np.float32) / 255
    return colours.astype(np.float32) * a + 255 * (1 - a)


def green_share(colours: np.ndarray, alpha: np.ndarray) -> float:
    """Mean of G - (R+B)/2 over the soft edge, composited on white."""
    edge = (alpha > 0) & (alpha < 255)
    composite = on_white(colours, alpha)[edge]
    return float((composite[:, 1] - (composite[:, 0] + composite[:, 2]) / 2).mean())


@pytest.fixture(scope="module")
def astronaut_on_green():
    """(photograph, alpha, shot): the real model's mask of the astronaut, 512x512."""
    image = photo("astronaut")
    mask = np.asarray(background.soft_mask(image, model_name=MODEL)).astype(np.int32)
    alpha = np.clip((mask - 2) * 255 // 250, 0, 255).astype(np.uint8)  # inside opaque
    truth = np.asarray(image)
    return truth, alpha, shoot_on_green(truth, alpha)


@pytest.fixture(scope="module")
def cat_on_green():
    """(photograph, alpha, shot): a feathered ellipse (a 60-pixel soft edge) over the cat at 2400x1600."""
    image = photo("chelsea", (2400, 1600))
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((500, 250, 1900, 1400), fill=255)
    alpha = np.asarray(mask.filter(ImageFilter.GaussianBlur(20)))
    truth = np.asarray(image)
    return truth, alpha, shoot_on_green(truth, alpha)


@pytest.mark.parametrize("case", ["astronaut_on_green", "cat_on_green"])
def test_green_fringe_on_white_drops_by_more_than_half(case, request):
    truth, alpha, shot = request.getfixturevalue(case)
    edge = (alpha > 0) & (alpha < 255)
    assert edge.sum() > 10_000 and (alpha == 255).sum() > 10_000  # a real soft edge and inside

    result = estimate_foreground(shot, alpha)

    before, after, original = green_share(shot, alpha), green_share(result, alpha), green_share(truth, alpha)
    print(f"\n{case}: green share in the edge on white {before:+.1f} -> {after:+.1f} (the photograph's own {original:+.1f})")
    assert before > 5  # the shot has a visible green fringe
    assert after <= before / 2
    # and most of the excess over the photograph's own colours is gone
    assert after - original <= (before - original) / 3
    # the colours come closer to the photograph's, not just less green
    error_before = np.abs(on_white(shot, alpha) - on_white(truth, alpha))[edge].mean()
    error_after = np.abs(on_white(result, alpha) - on_white(truth, alpha))[edge].mean()
    assert error_after < 0.75 * error_before


@pytest.mark.parametrize("case", ["astronaut_on_green", "cat_on_green"])
def test_only_the_soft_edge_changes(case, request):
    _, alpha, shot = request.getfixturevalue(case)
    before = shot.copy()

    result = estimate_foreground(shot, alpha)

    assert result.shape == shot.shape and result.dtype == np.uint8
    assert np.array_equal(shot, before)  # the input is not modified
    opaque, transparent = alpha == 255, alpha == 0
    assert np.array_equal(result[opaque], shot[opaque])  # bit for bit
    assert np.array_equal(result[transparent], shot[transparent])
    edge = ~opaque & ~transparent
    assert (result[edge] != shot[edge]).any(axis=1).mean() > 0.5


def test_no_soft_edge_returns_an_equal_copy():
    rgb = np.asarray(photo("coffee"))
    alpha = np.zeros(rgb.shape[:2], np.uint8)
    alpha[100:300, 100:400] = 255

    result = estimate_foreground(rgb, alpha)

    assert np.array_equal(result, rgb) and result is not rgb


def test_shapes_and_types_are_checked():
    rgb = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(ValueError, match="rgb"):
        estimate_foreground(rgb[:, :, :2], np.zeros((10, 12), np.uint8))
    with pytest.raises(ValueError, match="rgb"):
        estimate_foreground(rgb.astype(np.float32), np.zeros((10, 12), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        estimate_foreground(rgb, np.zeros((12, 10), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        estimate_foreground(rgb, np.zeros((10, 12), np.float32))


def test_the_module_does_not_import_numba():
    """pymatting (and numba, its JIT) stay out of the processes that decontaminate."""
    code = (
        "import sys, numpy as np\n"
        "from graphics.processing.decontaminate import estimate_foreground\n"
        "estimate_foreground(np.zeros((8, 8, 3), np.uint8), np.full((8, 8), 128, np.uint8))\n"
        "assert 'numba' not in sys.modules and 'pymatting' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
