"""The image reader meets hostile bytes: every mutant of a real image either decodes or is
refused with the reader's own error (`ImageRejected`), never anything else.

A byte-mutation fuzz of small JPEG, PNG, GIF, WebP, TIFF, HEIC and AVIF files (made with
Pillow and pillow-heif from a scikit-image photograph), with a fixed seed so a failure is
reproducible, and bounded in time. Both readers are run: `image_probe_bytes` (uploads)
and `decode` (processing, which also applies EXIF orientation and converts modes).
No database.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter

import pytest
from PIL import Image

from core.imaging import ImageRejected
from tests.images import encode, image_probe_bytes, photo
from graphics.processing.images import decode
from tests.hostile import mutate, seed_files

SEED = 20261122
MUTANTS_PER_FORMAT = 800
TIME_BUDGET_S = 30
MAX_PIXELS = 4_000_000  # mutated headers may claim anything; keep each decode small


def read_both(data: bytes) -> bool:
    """True if the bytes decode in both readers; False if refused with ImageRejected.
    Any other exception propagates and fails the test with the mutant's traceback."""
    outcomes = []
    for reader in (image_probe_bytes, decode):
        try:
            reader(data, max_pixels=MAX_PIXELS)
            outcomes.append(True)
        except ImageRejected as exc:
            assert exc.code in {"invalid_image", "image_too_large"}
            outcomes.append(False)
    return all(outcomes)


def test_every_mutant_decodes_or_raises_image_rejected():
    rng = random.Random(SEED)
    seeds = seed_files()
    decoded, refused = Counter(), Counter()
    started = time.monotonic()
    for name, original in seeds.items():
        assert read_both(original), f"the unmutated {name} must decode"
        for index in range(MUTANTS_PER_FORMAT):
            mutant = mutate(rng, original)
            try:
                ok = read_both(mutant)
            except Exception as exc:  # pragma: no cover - the failure this test exists for
                pytest.fail(f"{name} mutant #{index} (seed {SEED}) raised {type(exc).__name__}: {exc}")
            (decoded if ok else refused)[name] += 1
    elapsed = time.monotonic() - started
    total = sum(decoded.values()) + sum(refused.values())
    print(f"{total} mutants in {elapsed:.1f} s; decoded {dict(decoded)}; refused {dict(refused)}")
    assert total == MUTANTS_PER_FORMAT * len(seeds)
    assert elapsed < TIME_BUDGET_S
    # The fuzz reaches the decoders: for every format some mutants are refused, and for
    # most some still decode (a flipped byte in pixel data).
    assert all(refused[name] > 0 for name in seeds)
    assert sum(1 for name in seeds if decoded[name] > 0) >= len(seeds) // 2


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_corrupt_heic_or_avif_that_makes_the_decoder_raise_runtime_error_is_invalid_image(fmt):
    """libheif (through pillow-heif) and Pillow's AVIF plugin raise RuntimeError on some
    corrupt files; those used to escape as a 500."""
    original = encode(photo("chelsea", (48, 32)), fmt, quality=60)
    for offset in range(len(original)):
        mutant = bytearray(original)
        mutant[offset] ^= 0xFF
        try:
            with Image.open(io.BytesIO(bytes(mutant))) as image:
                image.load()
        except RuntimeError:
            break
        except Exception:
            continue
    else:
        pytest.fail(f"no single-byte flip of the {fmt} file makes the decoder raise RuntimeError")
    with pytest.raises(ImageRejected) as refused:
        image_probe_bytes(bytes(mutant), max_pixels=MAX_PIXELS)
    assert refused.value.code == "invalid_image"
    with pytest.raises(ImageRejected):
        decode(bytes(mutant), max_pixels=MAX_PIXELS)
