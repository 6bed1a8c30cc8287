"""The first input of an ONNX model, read without loading its weights. No Django.

`GET models` reports each installed model's input size, and `install_model --file`
checks a custom model's. Loading a model to learn four integers would cost its whole
size in memory (a gigabyte for BiRefNet) inside a web worker, and the `onnx` package
parses every weight too. An ONNX file is a protobuf `ModelProto` whose field 7 is the
`GraphProto`; the graph's inputs (field 11) are small `ValueInfoProto`s, and its weights
(field 5) are length-prefixed, so this reader walks the wire format and seeks past
everything else. Only the fields below are read:

    ModelProto.graph = 7            GraphProto.input = 11 (repeated ValueInfoProto)
    ValueInfoProto.name = 1, .type = 2
    TypeProto.tensor_type = 1       TypeProto.Tensor.shape = 2
    TensorShapeProto.dim = 1        Dimension.dim_value = 1 (int), .dim_param = 2 (name)
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class OnnxFormatError(ValueError):
    """The file is not an ONNX model this reader understands."""


@dataclass(frozen=True)
class OnnxInput:
    name: str
    shape: tuple[int | str | None, ...]  # an int, a symbolic name, or None per dimension

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of an NCHW image input with fixed height and width."""
        if len(self.shape) == 4 and isinstance(self.shape[2], int) and isinstance(self.shape[3], int):
            return self.shape[3], self.shape[2]
        return None


def _varint(stream: BinaryIO) -> int:
    value = shift = 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise OnnxFormatError("the file ends inside a field")
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
        if shift > 63:
            raise OnnxFormatError("a varint is longer than 10 bytes")


def _fields(stream: BinaryIO, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, wire type, value) up to offset `end`. For a length-delimited field
    the value is its length and the stream stands at its first byte; whatever the caller
    does not read of it is skipped."""
    while stream.tell() < end:
        key = _varint(stream)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            yield field, wire, _varint(stream)
        elif wire in (_FIXED64, _FIXED32):
            stream.seek(8 if wire == _FIXED64 else 4, io.SEEK_CUR)
        elif wire == _LENGTH:
            length = _varint(stream)
            start = stream.tell()
            if start + length > end:
                raise OnnxFormatError("a field runs past the end of its message")
            yield field, wire, length
            stream.seek(start + length)
        else:
            raise OnnxFormatError(f"unsupported protobuf wire type {wire}")
    if stream.tell() != end:
        raise OnnxFormatError("a message runs past its length")


def _message(stream: BinaryIO, field: int, end: int) -> tuple[int, int] | None:
    """(start, end) of the first length-delimited `field` before `end`."""
    for number, wire, value in _fields(stream, end):
        if number == field and wire == _LENGTH:
            start = stream.tell()
            return start, start + value
    return None


def _shape(data: bytes) -> tuple[int | str | None, ...]:
    stream = io.BytesIO(data)
    dims: list[int | str | None] = []
    for field, wire, length in _fields(stream, len(data)):
        if field != 1 or wire != _LENGTH:
            continue
        dim: int | str | None = None
        for number, kind, value in _fields(stream, stream.tell() + length):
            if number == 1 and kind == _VARINT:
                dim = value
            elif number == 2 and kind == _LENGTH:
                dim = stream.read(value).decode("utf-8", "replace")
        dims.append(dim)
    return tuple(dims)


def _value_info(data: bytes) -> OnnxInput:
    stream = io.BytesIO(data)
    name, shape = "", ()
    for field, wire, length in _fields(stream, len(data)):
        if field == 1 and wire == _LENGTH:
            name = stream.read(length).decode("utf-8", "replace")
        elif field == 2 and wire == _LENGTH:
            tensor = _message(stream, 1, stream.tell() + length)
            if tensor is not None:
                shape_at = _message(stream, 2, tensor[1])
                if shape_at is not None:
                    shape = _shape(stream.read(shape_at[1] - shape_at[0]))
    return OnnxInput(name=name, shape=shape)


def onnx_first_input(path: Path) -> OnnxInput:
    """The first input of the ONNX model at `path`; OnnxFormatError if it is not one."""
    with open(path, "rb", buffering=64 * 1024) as stream:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        graph = _message(stream, 7, size)
        if graph is None:
            raise OnnxFormatError("no graph: not an ONNX model")
        stream.seek(graph[0])
        first = _message(stream, 11, graph[1])
        if first is None:
            raise OnnxFormatError("the graph has no inputs")
        return _value_info(stream.read(first[1] - first[0]))
