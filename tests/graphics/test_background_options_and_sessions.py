"""graphics.processing.background: BgRemoveOptions.parse (defaults, every valid value,
each bad one an OptionError naming the field) and the model sessions (one per model,
the same one for 8 racing threads, nothing cached for an unknown model), and the core
pool that lends inferences their threads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import OptionError
from graphics.processing import background
from graphics.processing.background import BgMode, BgRemoveOptions, MaskStrength
from tests.graphics.conftest import MODEL, MODELS
from tests.images import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- options


def test_options_parse_defaults():
    options = BgRemoveOptions.parse({})
    assert options == BgRemoveOptions(mode=BgMode.AUTO, strength=MaskStrength.MEDIUM, remove_artifacts=False)
    assert background.model_for(options, MODELS) == MODEL


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"mode": "auto"}, BgRemoveOptions(mode=BgMode.AUTO)),
        ({"mode": "portrait"}, BgRemoveOptions(mode=BgMode.PORTRAIT)),
        ({"mode": "product"}, BgRemoveOptions(mode=BgMode.PRODUCT)),
        ({"strength": "low"}, BgRemoveOptions(strength=MaskStrength.LOW)),
        ({"strength": "medium"}, BgRemoveOptions(strength=MaskStrength.MEDIUM)),
        ({"strength": "high"}, BgRemoveOptions(strength=MaskStrength.HIGH)),
        ({"remove_artifacts": True}, BgRemoveOptions(remove_artifacts=True)),
        ({"remove_artifacts": False}, BgRemoveOptions(remove_artifacts=False)),
        ({"remove_artifacts": "true"}, BgRemoveOptions(remove_artifacts=True)),
        ({"remove_artifacts": "false"}, BgRemoveOptions(remove_artifacts=False)),
        ({"remove_artifacts": "True"}, BgRemoveOptions(remove_artifacts=True)),
        ({"remove_artifacts": "FALSE"}, BgRemoveOptions(remove_artifacts=False)),
        (
            {"mode": "product", "strength": "high", "remove_artifacts": "true"},
            BgRemoveOptions(BgMode.PRODUCT, MaskStrength.HIGH, True),
        ),
    ],
)
def test_options_parse_valid_values(raw, expected):
    assert BgRemoveOptions.parse(raw) == expected


@pytest.mark.parametrize(
    "raw, names, prefix, field",
    [
        ({"mode": "fast"}, None, "", "mode"),
        ({"mode": "AUTO"}, None, "", "mode"),
        ({"strength": "extreme"}, None, "", "strength"),
        ({"strength": ""}, None, "", "strength"),
        ({"strength": ["low"]}, None, "", "strength"),  # a JSON list is a 400, not a TypeError
        ({"mode": {"auto": 1}}, None, "", "mode"),
        ({"remove_artifacts": "maybe"}, None, "", "remove_artifacts"),
        ({"remove_artifacts": None}, None, "", "remove_artifacts"),
        ({"remove_artifacts": 2}, None, "", "remove_artifacts"),
        ({"bg_mode": "fast"}, {"mode": "bg_mode"}, "", "bg_mode"),
        ({"strength": "x"}, None, "operations[0].bg_remove.options.", "operations[0].bg_remove.options.strength"),
    ],
)
def test_options_parse_unknown_value_names_the_field(raw, names, prefix, field):
    with pytest.raises(OptionError) as caught:
        BgRemoveOptions.parse(raw, names=names, prefix=prefix)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert caught.value.message


@pytest.mark.parametrize(
    "raw, names, field",
    [
        ({"colour": "red"}, None, "colour"),
        ({"bg_mode": "auto"}, None, "bg_mode"),  # bg_mode is a query-string name only
        ({"mode": "auto"}, {"mode": "bg_mode"}, "mode"),  # ... and there plain `mode` is not an option
        ({"strength": "low", "extra": 1}, None, "extra"),
    ],
)
def test_options_parse_unknown_key_is_an_error(raw, names, field):
    with pytest.raises(OptionError) as caught:
        BgRemoveOptions.parse(raw, names=names)
    assert caught.value.field == field


def test_options_parse_accepts_the_query_name_bg_mode():
    assert BgRemoveOptions.parse({"bg_mode": "portrait", "strength": "low"}, names={"mode": "bg_mode"}) == (
        BgRemoveOptions(mode=BgMode.PORTRAIT, strength=MaskStrength.LOW)
    )


# ---------------------------------------------------------------- sessions


def test_session_for_returns_the_same_session_every_time():
    first = background.session_for(MODEL)
    assert background.session_for(MODEL) is first
    assert background._sessions[MODEL] is first


def test_session_for_creates_one_session_when_8_threads_race(monkeypatch):
    # Start without the cached session (restored afterwards) so the threads really race
    # to create it; count the real sessions made (u2netp runs on onnxruntime directly).
    if MODEL in background._sessions:
        monkeypatch.delitem(background._sessions, MODEL)
    created = []
    real_new_session = background._new_session

    def counting_new_session(name):
        session = real_new_session(name)
        created.append(session)
        return session

    monkeypatch.setattr(background, "_new_session", counting_new_session)
    barrier = threading.Barrier(8)
    results: list[object] = [None] * 8
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = background.session_for(MODEL)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(created) == 1
    assert all(result is created[0] for result in results)
    assert background._sessions[MODEL] is created[0]


def test_session_for_an_unknown_model_raises_and_caches_nothing():
    name = "no-such-model-xyz"
    with pytest.raises(ValueError, match=name):
        background.session_for(name)
    assert name not in background._sessions
    with pytest.raises(ValueError):  # and a second try fails the same way, not with a cached None
        background.session_for(name)
    assert name not in background._sessions


def test_removing_a_background_with_the_bundled_model_imports_neither_rembg_nor_scipy():
    """The hot path of a web or worker process: u2netp on onnxruntime directly; rembg (with
    numba, llvmlite, pymatting) and scipy stay out of the process. Run in a fresh
    interpreter, since this test process imported them already."""
    code = (
        "import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'assets_project.settings'; django.setup()\n"
        "from graphics import services\n"
        "from graphics.processing.background import BgRemoveOptions\n"
        "result = services.bg_remove_run(sys.stdin.buffer.read(), options=BgRemoveOptions())\n"
        "assert result.data.startswith(b'\\x89PNG') and result.model == 'u2netp', result.model\n"
        "print(sorted(m for m in ('rembg', 'scipy', 'numba', 'llvmlite', 'pymatting') if m in sys.modules))\n"
    )
    photo = jpeg_bytes("astronaut", (320, 240))  # made here: scikit-image itself imports scipy
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, input=photo, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert out.stdout.decode().strip().splitlines()[-1] == "[]"


def _pool_for(cores: int, threads: int = 0):
    from graphics.processing import u2net

    runtime = u2net.Runtime(threads=threads, engine="onnxruntime")  # adaptive unless `threads`
    pool = u2net.CorePool(runtime)
    pool.size = pool._free = cores  # a machine of `cores` cores, whatever this one has
    if threads:
        pool._fixed = min(threads, cores)
    return pool


def test_core_pool_gives_a_lone_inference_every_core_and_one_each_under_load():
    pool = _pool_for(4)
    with pool.turn() as alone:
        assert alone == 4
    inside, release, seen = threading.Event(), threading.Event(), []

    def hold() -> None:
        with pool.turn() as cores:
            seen.append(cores)
            inside.set()
            release.wait(10)

    first = threading.Thread(target=hold)
    first.start()
    assert inside.wait(10)
    # the first took all 4; three more wait, then each gets one core when it is released
    others = [threading.Thread(target=hold) for _ in range(3)]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while pool._waiting < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool._waiting == 3 and pool._free == 0
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert seen == [4, 1, 1, 1]
    assert pool._free == 4 and pool._waiting == 0


def test_core_pool_gives_one_core_while_another_request_decodes_or_encodes():
    """Two requests in the process: the one at the model takes one core even though the
    other is not at the model (it is decoding or encoding and needs a core for that)."""
    pool = _pool_for(4)
    with pool.working():
        with pool.turn() as alone:
            assert alone == 4
        with pool.working():
            with pool.turn() as shared:
                assert shared == 1
        with pool.turn() as alone_again:
            assert alone_again == 4
    assert pool._working == 0 and pool._free == 4


def test_core_pool_never_lends_more_cores_than_it_has():
    pool = _pool_for(2)
    busy, peak, lock = [0], [0], threading.Lock()

    def run() -> None:
        for _ in range(20):
            with pool.turn() as cores:
                with lock:
                    busy[0] += cores
                    peak[0] = max(peak[0], busy[0])
                time.sleep(0.001)
                with lock:
                    busy[0] -= cores

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert peak[0] == 2 and busy[0] == 0 and pool._free == 2


def test_core_pool_with_fixed_threads_lends_that_many():
    pool = _pool_for(4, threads=2)
    with pool.turn() as first, pool.turn() as second:
        assert (first, second) == (2, 2) and pool._free == 0


def _u2netp_batch() -> np.ndarray:
    from graphics.processing import u2net
    from skimage import data

    pixels = np.asarray(Image.fromarray(data.astronaut()).resize((320, 320)), dtype=np.float32)
    return np.ascontiguousarray(((pixels / pixels.max() - u2net._MEAN) / u2net._STD).transpose(2, 0, 1)[np.newaxis])


def test_adaptive_sessions_give_the_same_mask_with_all_cores_and_with_one():
    from graphics.processing import u2net

    runtime = u2net.Runtime(engine="onnxruntime")
    session = u2net.OnnxU2netSession(u2net.model_path("u2netp"), runtime, u2net.CorePool(runtime))
    batch = _u2netp_batch()
    outputs = [s.run(None, {session._input: batch})[0][0, 0] for s in session._sessions.values()]
    assert len(outputs) == len(runtime.widths) == len(set(runtime.widths))
    for output in outputs[1:]:
        assert np.abs(output - outputs[0]).max() < 1e-4


def test_openvino_and_onnxruntime_give_the_same_mask():
    """The two engines run the same network: on real photographs their masks differ by at
    most one level in 255 anywhere (rounding), and by a few pixels' worth on average."""
    from graphics.processing import u2net
    from skimage import data

    path = u2net.model_path("u2netp")
    sessions = [
        u2net.u2net_session(path, runtime, u2net.CorePool(runtime))
        for runtime in (u2net.Runtime(engine="openvino"), u2net.Runtime(engine="onnxruntime"))
    ]
    assert [type(s).__name__ for s in sessions] == ["OpenVinoU2netSession", "OnnxU2netSession"]
    for photo in (data.astronaut(), data.chelsea(), data.coffee(), data.rocket()):
        small = Image.fromarray(photo).resize((320, 320), Image.Resampling.LANCZOS)
        ov_mask, ort_mask = (np.asarray(s.predict(small)[0], dtype=np.int16) for s in sessions)
        assert ov_mask.std() > 20  # a real mask, not a flat image
        assert np.abs(ov_mask - ort_mask).max() <= 1
        assert np.abs(ov_mask - ort_mask).mean() < 0.05


def test_a_gpu_provider_always_runs_on_onnxruntime():
    from graphics.processing import u2net

    assert u2net.Runtime(engine="openvino").openvino
    assert not u2net.Runtime(providers=("CUDAExecutionProvider", "CPUExecutionProvider")).openvino
    assert not u2net.Runtime(engine="onnxruntime").openvino
    assert u2net.Runtime(engine="openvino").fixed_threads == u2net.Runtime(engine="onnxruntime").fixed_threads == 0
    assert u2net.Runtime(engine="openvino", threads=1).widths == (1,)
    assert u2net.Runtime(engine="onnxruntime", threads=4).fixed_threads == min(4, os.cpu_count() or 1)


def test_openvino_sessions_run_concurrently_with_one_request_each():
    """Inferences from several threads at once take the session's infer requests (made up
    front: making one while another thread infers can deadlock), and the masks they
    return are the ones a lone inference gives."""
    from graphics.processing import u2net

    runtime = u2net.Runtime(engine="openvino")
    session = u2net.OpenVinoU2netSession(u2net.model_path("u2netp"), runtime, u2net.CorePool(runtime))
    image = Image.fromarray(np.asarray(Image.open(io.BytesIO(jpeg_bytes(size=(320, 320))))))
    expected = np.asarray(session.predict(image)[0])
    results, errors = [], []

    def run() -> None:
        try:
            for _ in range(3):
                results.append(np.asarray(session.predict(image)[0]))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(results) == 12
    assert all(np.array_equal(result, expected) for result in results)
    # a request per stream, made up front, every one returned
    assert {width: idle.qsize() for width, idle in session._idle.items()} == {
        width: max(1, runtime.cores // width) for width in runtime.widths
    }
