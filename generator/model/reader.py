"""Translate a .tflite flatbuffer into the IR. Translation only: no optimising here.

The flatbuffers runtime raises whatever Python raises when an offset points outside the buffer
(IndexError, struct.error, ...), so every access runs under one guard that turns those into
`ModelFormatError`. Constant data stays a read-only numpy view into the file bytes (no copy).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from generator.errors import ModelFormatError, Stm32genError, UnsupportedModelError, UnsupportedOperatorError
from generator.model.ir import Graph, Operator, Quantization, Tensor

FILE_IDENTIFIER = b"TFL3"
# A tensor larger than this is certainly corrupt for a microcontroller model; refusing it early keeps
# a mutated shape from asking numpy for terabytes.
MAX_TENSOR_ELEMENTS = 1 << 28

_OPCODE_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_OPTIONS_NAMES = {v: k for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}
_TENSOR_TYPES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
_NUMPY_TYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64, "INT8": np.int8,
    "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16, "INT32": np.int32, "UINT32": np.uint32,
    "INT64": np.int64, "UINT64": np.uint64, "BOOL": np.bool_,
}
_ENUM_FIELDS = {
    "padding": {v: k for k, v in vars(tflite.Padding).items() if not k.startswith("_")},
    "fused_activation_function": {
        v: k for k, v in vars(tflite.ActivationFunctionType).items() if not k.startswith("_")
    },
}
_SKIP_METHODS = re.compile(r"^(Init|GetRootAs.*|.*BufferHasIdentifier|.*Length|.*IsNone)$")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def read_model(path: str | Path) -> Graph:
    """Read a .tflite file into a Graph. Raises ModelFormatError / UnsupportedModelError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read model '{path}': {exc.strerror or exc}") from None
    return read_model_bytes(data, source=str(path))


def read_model_bytes(data: bytes, source: str = "<bytes>") -> Graph:
    if len(data) < 8:
        raise ModelFormatError(f"{source}: truncated file ({len(data)} bytes), not a TFLite model")
    if data[4:8] != FILE_IDENTIFIER:
        raise ModelFormatError(
            f"{source}: not a TFLite model (file identifier {data[4:8]!r}, expected {FILE_IDENTIFIER!r})"
        )
    try:
        return _Reader(data, source).graph()
    except Stm32genError:
        raise
    except (IndexError, struct.error, ValueError, TypeError, UnicodeDecodeError, OverflowError,
            AttributeError, KeyError, MemoryError) as exc:
        raise ModelFormatError(f"{source}: corrupt or truncated flatbuffer ({type(exc).__name__})") from None


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source
        self.model = tflite.Model.GetRootAsModel(data, 0)
        self.buffer_view = np.frombuffer(data, dtype=np.uint8)

    def graph(self) -> Graph:
        m = self.model
        n_sub = m.SubgraphsLength()
        if n_sub != 1:
            raise UnsupportedModelError(f"{self.source}: model has {n_sub} subgraphs; stm32gen supports exactly 1")
        sg = m.Subgraphs(0)
        tensors = [self._tensor(sg, i) for i in range(sg.TensorsLength())]

        def tensor_at(i: int, what: str) -> Tensor | None:
            if i == -1:
                return None
            if not 0 <= i < len(tensors):
                raise ModelFormatError(f"{self.source}: {what} refers to tensor {i}, model has {len(tensors)}")
            return tensors[i]

        ops = []
        for k in range(sg.OperatorsLength()):
            op = sg.Operators(k)
            name = self._opcode_name(op.OpcodeIndex(), k)
            ins = [tensor_at(int(i), f"operator #{k} {name}") for i in self._vector(op.InputsAsNumpy())]
            outs = [tensor_at(int(i), f"operator #{k} {name}") for i in self._vector(op.OutputsAsNumpy())]
            if any(t is None for t in outs):
                raise ModelFormatError(f"{self.source}: operator #{k} {name} has an optional output")
            version = m.OperatorCodes(op.OpcodeIndex()).Version()
            ops.append(Operator(name, ins, outs, self._options(op), version, k))

        inputs = [tensor_at(int(i), "graph input") for i in self._vector(sg.InputsAsNumpy())]
        outputs = [tensor_at(int(i), "graph output") for i in self._vector(sg.OutputsAsNumpy())]
        if any(t is None for t in (*inputs, *outputs)):
            raise ModelFormatError(f"{self.source}: graph input/output index -1")
        self._check_order(ops, inputs, outputs)  # type: ignore[arg-type]
        metadata = {}
        for i in range(m.MetadataLength()):
            md = m.Metadata(i)
            metadata[(md.Name() or b"").decode("utf-8", "replace")] = self._buffer_bytes(md.Buffer())
        return Graph(
            operators=ops, inputs=inputs, outputs=outputs,  # type: ignore[arg-type]
            name=(sg.Name() or b"").decode("utf-8", "replace"),
            description=(m.Description() or b"").decode("utf-8", "replace"),
            metadata=metadata,
        )

    def _check_order(self, ops: list[Operator], inputs: list[Tensor], outputs: list[Tensor]) -> None:
        """TFLite executes operators in file order: each reads only constants, graph inputs and
        tensors written earlier, and each tensor is written once."""
        ready = {id(t) for t in inputs}
        for op in ops:
            for t in op.inputs:
                if t is not None and not t.is_constant and id(t) not in ready:
                    raise ModelFormatError(
                        f"{self.source}: operator #{op.index} {op.type} reads tensor '{t.name}' before any operator writes it"
                    )
            for t in op.outputs:
                if id(t) in ready or t.is_constant:
                    raise ModelFormatError(f"{self.source}: operator #{op.index} {op.type} overwrites tensor '{t.name}'")
                ready.add(id(t))
        for t in outputs:
            if not t.is_constant and id(t) not in ready:
                raise ModelFormatError(f"{self.source}: graph output '{t.name}' is never computed")

    @staticmethod
    def _vector(v: Any) -> np.ndarray:
        # The flatbuffers runtime returns 0 instead of an array for an absent vector.
        return v if isinstance(v, np.ndarray) else np.zeros(0, dtype=np.int32)

    def _opcode_name(self, opcode_index: int, op_index: int) -> str:
        m = self.model
        if not 0 <= opcode_index < m.OperatorCodesLength():
            raise ModelFormatError(f"{self.source}: operator #{op_index} has opcode index {opcode_index} out of range")
        oc = m.OperatorCodes(opcode_index)
        # Schema v3a moved codes > 127 to `builtin_code`; old writers fill only the int8
        # `deprecated_builtin_code`. The larger of the two is the real one.
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        name = _OPCODE_NAMES.get(code)
        if name == "CUSTOM":
            custom = (oc.CustomCode() or b"?").decode("utf-8", "replace")
            raise UnsupportedOperatorError(f"CUSTOM '{custom}'", op_index, "custom operators cannot be compiled")
        if name is None:
            raise UnsupportedOperatorError(f"builtin code {code}", op_index, "unknown to this TFLite schema")
        return name

    def _buffer_bytes(self, index: int) -> bytes:
        return self._buffer_array(index).tobytes()

    def _buffer_array(self, index: int) -> np.ndarray:
        m = self.model
        if not 0 <= index < m.BuffersLength():
            raise ModelFormatError(f"{self.source}: buffer index {index} out of range")
        buf = m.Buffers(index)
        offset = int(buf.Offset())
        if offset > 1:  # models > 2 GiB keep data after the flatbuffer, addressed by offset/size
            size = int(buf.Size())
            if offset + size > len(self.data):
                raise ModelFormatError(f"{self.source}: buffer {index} lies past the end of the file")
            return self.buffer_view[offset:offset + size]
        arr = buf.DataAsNumpy()
        return arr if isinstance(arr, np.ndarray) else self.buffer_view[:0]

    def _tensor(self, sg: Any, i: int) -> Tensor:
        t = sg.Tensors(i)
        name = (t.Name() or b"").decode("utf-8", "replace")
        type_name = _TENSOR_TYPES.get(t.Type(), f"type {t.Type()}")
        if type_name not in _NUMPY_TYPES:
            raise UnsupportedModelError(f"{self.source}: tensor {i} '{name}' has unsupported type {type_name}")
        dtype = np.dtype(_NUMPY_TYPES[type_name])
        shape = tuple(int(d) for d in self._vector(t.ShapeAsNumpy()))
        if any(d < 0 for d in shape):
            raise UnsupportedModelError(f"{self.source}: tensor {i} '{name}' has a dynamic shape {list(shape)}")
        if int(np.prod(shape, dtype=np.float64)) > MAX_TENSOR_ELEMENTS:
            raise ModelFormatError(f"{self.source}: tensor {i} '{name}' has an absurd shape {list(shape)}")
        raw = self._buffer_array(t.Buffer())
        data = None
        if raw.size:
            expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if raw.size != expected:
                raise ModelFormatError(
                    f"{self.source}: tensor {i} '{name}' holds {raw.size} bytes, shape {list(shape)} "
                    f"of {dtype.name} needs {expected}"
                )
            data = raw.view(dtype).reshape(shape)
        return Tensor(name, shape, dtype, self._quantization(t, shape), data, index=i)

    def _quantization(self, t: Any, shape: tuple[int, ...]) -> Quantization | None:
        q = t.Quantization()
        if q is None:
            return None
        scale = self._vector(q.ScaleAsNumpy())
        zp = self._vector(q.ZeroPointAsNumpy())
        if scale.size == 0:
            return None
        if zp.size == 0:
            zp = np.zeros(scale.size, dtype=np.int64)
        axis = int(q.QuantizedDimension())
        if zp.size != scale.size or (scale.size > 1 and (axis >= len(shape) or shape[axis] != scale.size)):
            raise ModelFormatError(f"{self.source}: tensor '{t.Name()!r}' has inconsistent quantization parameters")
        return Quantization(scale.astype(np.float32), zp.astype(np.int64), axis)

    def _options(self, op: Any) -> dict[str, Any]:
        type_name = _OPTIONS_NAMES.get(op.BuiltinOptionsType(), "NONE")
        table = op.BuiltinOptions()
        if type_name == "NONE" or table is None:
            return {}
        cls = getattr(tflite, type_name, None)
        if cls is None:
            return {}
        opts = cls()
        opts.Init(table.Bytes, table.Pos)
        out: dict[str, Any] = {}
        for attr in dir(cls):
            if attr.startswith("_") or _SKIP_METHODS.match(attr) or not callable(getattr(cls, attr)):
                continue
            if attr.endswith("AsNumpy"):
                out[_snake(attr[: -len("AsNumpy")])] = self._vector(getattr(opts, attr)()).tolist()
                continue
            if hasattr(cls, attr + "AsNumpy") or hasattr(cls, attr + "Length"):
                continue  # vector accessors by element; the AsNumpy form above covers them
            key = _snake(attr)
            value = getattr(opts, attr)()
            out[key] = _ENUM_FIELDS[key].get(value, value) if key in _ENUM_FIELDS else value
        return out
