"""The model catalogue, the ONNX input reader and the bg_mode rule (core, no Django).

- Every rembg model the catalogue offers has the URL and MD5 that the installed rembg's
  own session downloads and checks (read from rembg's source), so `install_model NAME`
  fetches what rembg would.
- The input reader agrees with onnxruntime on real models, and refuses what is not one.
- `bg_mode_models`: the mapping of SPEC §6 and §13, as a table.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import onnxruntime as ort
import pytest
from django.conf import settings

from core.model_catalogue import ISNET_FP16, REMBG_MODELS, bg_mode_models, pipeline_for
from core.onnx_input import OnnxFormatError, onnx_first_input


def test_every_rembg_model_has_rembgs_own_url_and_md5():
    from rembg.sessions import sessions_class

    sources = {cls.name(): inspect.getsource(cls.download_models) for cls in sessions_class}
    for name, model in REMBG_MODELS.items():
        assert name in sources, f"rembg has no model named {name}"
        assert f'"{model.url}"' in sources[name], name
        assert f"md5:{model.md5}" in sources[name], name


def test_models_without_a_checksum_in_rembg_are_not_offered():
    from rembg.sessions import sessions_class

    unverifiable = {cls.name() for cls in sessions_class if "md5:" not in inspect.getsource(cls.download_models)}
    assert {"bria-rmbg", "sam"} <= unverifiable
    assert not unverifiable & set(REMBG_MODELS)


@pytest.mark.parametrize("name", ["u2netp", pytest.param(ISNET_FP16.name, marks=pytest.mark.isnet)])
def test_the_input_reader_agrees_with_onnxruntime(name, request):
    if name == ISNET_FP16.name:
        request.getfixturevalue("isnet_model")
    path = Path(settings.U2NET_HOME) / f"{name}.onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected = session.get_inputs()[0]
    found = onnx_first_input(path)
    assert (found.name, list(found.shape)) == (expected.name, expected.shape)
    assert found.image_size == (expected.shape[3], expected.shape[2])


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\x3a\xff\xff\xff\x0f", b"not a model at all, just words"],
    ids=["empty", "jpeg", "length past the end", "text"],
)
def test_the_input_reader_refuses_what_is_not_a_model(tmp_path, content):
    path = tmp_path / "x.onnx"
    path.write_bytes(content)
    with pytest.raises(OnnxFormatError):
        onnx_first_input(path)


def test_a_custom_model_runs_on_the_pipeline_its_input_size_calls_for():
    assert pipeline_for("u2netp", None) == "u2net"
    assert pipeline_for("isnet-general-use", None) == "isnet"
    assert pipeline_for(ISNET_FP16.name, None) == "isnet"
    assert pipeline_for("birefnet-general", None) == "rembg"
    assert pipeline_for("shop-model", (320, 320)) == "u2net"
    assert pipeline_for("shop-model", (1024, 1024)) == "isnet"


UNSET = {"auto": None, "portrait": None, "product": None}
ISNET = ISNET_FP16.name


@pytest.mark.parametrize(
    ("configured", "installed", "expected", "warned"),
    [
        # out of the box: everything on the default
        (UNSET, {"u2netp"}, {"auto": "u2netp", "portrait": "u2netp", "product": "u2netp"}, []),
        # ISNet installed: portrait and product take it, auto stays
        (UNSET, {"u2netp", ISNET}, {"auto": "u2netp", "portrait": ISNET, "product": ISNET}, []),
        # rembg's full-precision ISNet counts too; the fp16 one first when both are there
        (UNSET, {"u2netp", "isnet-general-use"}, {"auto": "u2netp", "portrait": "isnet-general-use", "product": "isnet-general-use"}, []),
        (UNSET, {"u2netp", "isnet-general-use", ISNET}, {"auto": "u2netp", "portrait": ISNET, "product": ISNET}, []),
        # settings say otherwise
        ({**UNSET, "product": "u2netp"}, {"u2netp", ISNET}, {"auto": "u2netp", "portrait": ISNET, "product": "u2netp"}, []),
        ({**UNSET, "auto": ISNET}, {"u2netp", ISNET}, {"auto": ISNET, "portrait": ISNET, "product": ISNET}, []),
        # a configured model that is missing: the default, and a warning naming both
        ({**UNSET, "product": ISNET}, {"u2netp"}, {"auto": "u2netp", "portrait": "u2netp", "product": "u2netp"}, ["product"]),
        ({**UNSET, "auto": "birefnet-general"}, {"u2netp", ISNET}, {"auto": "u2netp", "portrait": ISNET, "product": ISNET}, ["auto"]),
    ],
)
def test_bg_mode_mapping(configured, installed, expected, warned):
    models, warnings = bg_mode_models(configured, default="u2netp", installed=installed)
    assert models == expected
    assert len(warnings) == len(warned)
    for mode, warning in zip(warned, warnings):
        assert warning.startswith(f"bg_mode {mode} is set to run {configured[mode]}, which is not installed; running u2netp")
        assert f"manage.py install_model {configured[mode]}" in warning
