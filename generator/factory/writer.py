"""Serialise a Graph back into a .tflite flatbuffer (the inverse of generator.model.reader).

Used to make test models: build a Graph in Python, write it, and run it in LiteRT as ground truth.
`read_model_bytes(write_model(g))` reproduces `g`: op types, versions, options (same snake_case keys
and enum names the reader produces), tensor names, shapes, dtypes, quantization and constant bytes.

Layout follows the TFLite converter: buffer 0 is the empty sentinel, every constant tensor gets its
own buffer (16-byte aligned data), one operator code per (op type, version), file identifier TFL3.
"""

from __future__ import annotations

import inspect
import re
from functools import cache
from typing import Any

import flatbuffers
import numpy as np
import tflite
from flatbuffers import number_types

from generator.errors import GraphInvariantError, UnsupportedModelError, UnsupportedOperatorError
from generator.model.ir import Graph, Operator, Tensor

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
# TFLite kernels read constant data in place; the converter aligns buffers to 16 bytes so SIMD loads
# and int32/float views of the data are aligned.
BUFFER_ALIGNMENT = 16
# Codes above 127 do not fit the int8 `deprecated_builtin_code`; the schema's placeholder is 127.
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127

_OPCODES = {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_OPTIONS_TYPES = {k: v for k, v in vars(tflite.BuiltinOptions).items() if not k.startswith("_")}
_TENSOR_TYPES = {
    np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16", np.dtype(np.float64): "FLOAT64",
    np.dtype(np.int8): "INT8", np.dtype(np.uint8): "UINT8", np.dtype(np.int16): "INT16",
    np.dtype(np.uint16): "UINT16", np.dtype(np.int32): "INT32", np.dtype(np.uint32): "UINT32",
    np.dtype(np.int64): "INT64", np.dtype(np.uint64): "UINT64", np.dtype(np.bool_): "BOOL",
}
# The reader turns these two enum fields into names; everything else stays numeric.
_ENUM_VALUES = {
    "padding": {k: v for k, v in vars(tflite.Padding).items() if not k.startswith("_")},
    "fused_activation_function": {
        k: v for k, v in vars(tflite.ActivationFunctionType).items() if not k.startswith("_")
    },
}
# Operators whose options table is not named after the operator.
_OPTIONS_OVERRIDES = {
    "MEAN": "ReducerOptions", "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions", "REDUCE_ANY": "ReducerOptions",
    "REDUCE_ALL": "ReducerOptions", "MAX_POOL_2D": "Pool2DOptions", "AVERAGE_POOL_2D": "Pool2DOptions",
    "L2_POOL_2D": "Pool2DOptions", "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "L2_NORMALIZATION": "L2NormOptions", "BATCH_MATMUL": "BatchMatMulOptions",
}
_SKIP_METHODS = re.compile(r"^(Init|GetRootAs.*|.*BufferHasIdentifier|.*Length|.*IsNone)$")


def _snake(name: str) -> str:
    # Must match the reader's key spelling exactly (DilationHFactor -> dilation_hfactor).
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@cache
def _options_class_for(op_type: str) -> str | None:
    """Name of the BuiltinOptions union member that carries `op_type`'s options, or None."""
    if op_type in _OPTIONS_OVERRIDES:
        return _OPTIONS_OVERRIDES[op_type]
    wanted = op_type.replace("_", "").lower()
    for name in _OPTIONS_TYPES:
        if name.endswith("Options") and name[: -len("Options")].lower() == wanted:
            return name
    return None


@cache
def _options_fields(cls_name: str) -> dict[str, tuple[str, Any]]:
    """snake_case key -> (CamelCase field, numpy element type for vectors or None for scalars)."""
    cls = getattr(tflite, cls_name)
    fields: dict[str, tuple[str, Any]] = {}
    for attr in dir(cls):
        if attr.startswith("_") or _SKIP_METHODS.match(attr) or not callable(getattr(cls, attr)):
            continue
        if attr.endswith("AsNumpy"):
            field = attr[: -len("AsNumpy")]
            # The generated getter names the element type: GetVectorAsNumpy(number_types.Int32Flags, o).
            flags = re.search(r"number_types\.(\w+Flags)", inspect.getsource(getattr(cls, attr)))
            elem = number_types.to_numpy_type(getattr(number_types, flags.group(1))) if flags else np.int32
            fields[_snake(field)] = (field, elem)
        elif not (hasattr(cls, attr + "AsNumpy") or hasattr(cls, attr + "Length")):
            fields[_snake(attr)] = (attr, None)
    return fields


def write_model(graph: Graph) -> bytes:
    """Serialise `graph` into .tflite bytes. Raises UnsupportedOperatorError for an unknown op type
    or an option key its options table does not have."""
    return _Writer(graph).build()


class _Writer:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = flatbuffers.Builder(1024)
        # Keep the source model's tensor order when there is one, so indices survive a round trip.
        order = graph.tensors()
        first_use = {id(t): k for k, t in enumerate(order)}
        self.tensors = sorted(order, key=lambda t: (t.index < 0, t.index, first_use[id(t)]))
        self.tensor_index = {id(t): k for k, t in enumerate(self.tensors)}
        self.buffers: list[bytes] = [b""]  # buffer 0: the empty sentinel the schema reserves

    def build(self) -> bytes:
        b, g = self.b, self.graph
        tensor_offsets = [self._tensor(t) for t in self.tensors]
        opcodes: dict[tuple[str, int], int] = {}
        op_offsets = [self._operator(op, k, opcodes) for k, op in enumerate(g.operators)]

        tensors_vec = self._offset_vector(tflite.SubGraphStartTensorsVector, tensor_offsets)
        inputs_vec = self._int32_vector([self.tensor_index[id(t)] for t in g.inputs])
        outputs_vec = self._int32_vector([self.tensor_index[id(t)] for t in g.outputs])
        ops_vec = self._offset_vector(tflite.SubGraphStartOperatorsVector, op_offsets)
        name = b.CreateString(g.name)
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_vec)
        tflite.SubGraphAddInputs(b, inputs_vec)
        tflite.SubGraphAddOutputs(b, outputs_vec)
        tflite.SubGraphAddOperators(b, ops_vec)
        tflite.SubGraphAddName(b, name)
        subgraph = tflite.SubGraphEnd(b)

        code_offsets = [self._opcode(op_type, version) for op_type, version in opcodes]
        metadata_offsets = []
        for md_name, payload in self.graph.metadata.items():
            md_buffer = self._add_buffer(payload)
            md_name_off = b.CreateString(md_name)
            tflite.MetadataStart(b)
            tflite.MetadataAddName(b, md_name_off)
            tflite.MetadataAddBuffer(b, md_buffer)
            metadata_offsets.append(tflite.MetadataEnd(b))
        buffer_offsets = [self._buffer(data) for data in self.buffers]

        codes_vec = self._offset_vector(tflite.ModelStartOperatorCodesVector, code_offsets)
        subgraphs_vec = self._offset_vector(tflite.ModelStartSubgraphsVector, [subgraph])
        buffers_vec = self._offset_vector(tflite.ModelStartBuffersVector, buffer_offsets)
        metadata_vec = self._offset_vector(tflite.ModelStartMetadataVector, metadata_offsets)
        description = b.CreateString(g.description)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, SCHEMA_VERSION)
        tflite.ModelAddOperatorCodes(b, codes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        tflite.ModelAddDescription(b, description)
        tflite.ModelAddBuffers(b, buffers_vec)
        if metadata_offsets:
            tflite.ModelAddMetadata(b, metadata_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=FILE_IDENTIFIER)
        return bytes(b.Output())

    # -- vectors -------------------------------------------------------------------------------
    def _offset_vector(self, start: Any, offsets: list[int]) -> int:
        start(self.b, len(offsets))
        for off in reversed(offsets):
            self.b.PrependUOffsetTRelative(off)
        return self.b.EndVector()

    def _int32_vector(self, values: list[int]) -> int:
        return self.b.CreateNumpyVector(np.asarray(values, dtype="<i4"))

    def _add_buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _buffer(self, data: bytes) -> int:
        b = self.b
        data_off = None
        if data:
            b.StartVector(1, len(data), BUFFER_ALIGNMENT)
            b.head -= len(data)
            b.Bytes[b.head:b.head + len(data)] = data
            data_off = b.EndVector()
        tflite.BufferStart(b)
        if data_off is not None:
            tflite.BufferAddData(b, data_off)
        return tflite.BufferEnd(b)

    # -- tables --------------------------------------------------------------------------------
    def _tensor(self, t: Tensor) -> int:
        b = self.b
        dtype = np.dtype(t.dtype)
        if dtype not in _TENSOR_TYPES:
            raise UnsupportedModelError(f"tensor '{t.name}' has dtype {dtype.name}, which TFLite cannot store")
        buffer = 0
        if t.data is not None:
            data = np.ascontiguousarray(t.data, dtype=dtype.newbyteorder("<"))
            if data.size != t.size:
                raise GraphInvariantError(f"tensor '{t.name}' holds {data.size} values, shape {list(t.shape)} needs {t.size}")
            buffer = self._add_buffer(data.tobytes())
        name = b.CreateString(t.name)
        shape = self._int32_vector(list(t.shape))
        quant = self._quantization(t) if t.quant is not None else None
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, getattr(tflite.TensorType, _TENSOR_TYPES[dtype]))
        tflite.TensorAddBuffer(b, buffer)
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        return tflite.TensorEnd(b)

    def _quantization(self, t: Tensor) -> int:
        b, q = self.b, t.quant
        assert q is not None
        scale = b.CreateNumpyVector(np.asarray(q.scale, dtype="<f4").reshape(-1))
        zero_point = b.CreateNumpyVector(np.asarray(q.zero_point, dtype="<i8").reshape(-1))
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, scale)
        tflite.QuantizationParametersAddZeroPoint(b, zero_point)
        tflite.QuantizationParametersAddQuantizedDimension(b, int(q.axis))
        return tflite.QuantizationParametersEnd(b)

    def _operator(self, op: Operator, k: int, opcodes: dict[tuple[str, int], int]) -> int:
        b = self.b
        if op.type not in _OPCODES or op.type == "CUSTOM":
            raise UnsupportedOperatorError(op.type, k, "not a TFLite builtin operator")
        opcode_index = opcodes.setdefault((op.type, int(op.version)), len(opcodes))
        inputs = self._int32_vector([-1 if t is None else self.tensor_index[id(t)] for t in op.inputs])
        outputs = self._int32_vector([self.tensor_index[id(t)] for t in op.outputs])
        options = self._options(op, k) if op.options else None
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, opcode_index)
        tflite.OperatorAddInputs(b, inputs)
        tflite.OperatorAddOutputs(b, outputs)
        if options is not None:
            tflite.OperatorAddBuiltinOptionsType(b, options[0])
            tflite.OperatorAddBuiltinOptions(b, options[1])
        return tflite.OperatorEnd(b)

    def _options(self, op: Operator, k: int) -> tuple[int, int]:
        """Write op.options as its builtin options table; returns (union type, table offset)."""
        b = self.b
        cls_name = _options_class_for(op.type)
        if cls_name is None:
            raise UnsupportedOperatorError(op.type, k, f"options {sorted(op.options)} but no options table")
        fields = _options_fields(cls_name)
        unknown = sorted(set(op.options) - set(fields))
        if unknown:
            raise UnsupportedOperatorError(
                op.type, k, f"unknown option(s) {unknown} for {cls_name}; known: {sorted(fields)}"
            )
        # Vectors are written before the table starts (flatbuffers forbids nesting).
        vectors = {
            key: b.CreateNumpyVector(np.asarray(value, dtype=np.dtype(fields[key][1]).newbyteorder("<")))
            for key, value in op.options.items()
            if fields[key][1] is not None
        }
        getattr(tflite, f"{cls_name}Start")(b)
        for key, value in op.options.items():
            field, elem = fields[key]
            add = getattr(tflite, f"{cls_name}Add{field}")
            if elem is not None:
                add(b, vectors[key])
            elif key in _ENUM_VALUES and isinstance(value, str):
                add(b, _ENUM_VALUES[key][value])
            else:
                add(b, value)
        return _OPTIONS_TYPES[cls_name], getattr(tflite, f"{cls_name}End")(b)

    def _opcode(self, op_type: str, version: int) -> int:
        b = self.b
        code = _OPCODES[op_type]
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, _PLACEHOLDER_FOR_GREATER_OP_CODES))
        tflite.OperatorCodeAddVersion(b, version)
        tflite.OperatorCodeAddBuiltinCode(b, code)
        return tflite.OperatorCodeEnd(b)
