"""Emit the C network: network.h / network.c (templates/network) plus the weights blob.

The network is a straight-line list of kernel calls, one block per operator, each reading and
writing fixed addresses: activations at their planned offsets inside one static arena per memory
region (section `.arena.<REGION>`), constants (the model's and the kernels' derived arrays, see
constants.py) inside one blob per weight region (weights.c, string literals: a 1.3 MB blob compiles
in 0.2 s with any toolchain and needs no include-path tricks), section `.weights.<REGION>`;
generator/firmware/layout.py pins both. Only the small parameter structs stay in .rodata.
Operators that only re-view bytes (aliased RESHAPE, CONCATENATION whose inputs were produced in
place) emit no code. Everything is derived from the lowered graph and the plan, in a fixed order,
so the same inputs give byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
import numpy as np

from generator.codegen.constants import constant_name, operator_calls
from generator.codegen.kernel_params import ArrayRef, KernelCall, c_literal
from generator.codegen.plan_hash import plan_hash
from generator.errors import CodegenError
from generator.model.ir import Graph, Tensor
from generator.planner import Plan
from generator.resources import templates_dir

BLOB_LINE = 64  # bytes per string literal line in weights.c
DTYPE_CODES = {"int8": 1, "uint8": 2, "float32": 3}
_CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "float32": "float", "int32": "int32_t"}


@dataclass(frozen=True)
class WeightBlob:
    region: str
    symbol: str  # C symbol of the blob's first byte
    section: str
    data: bytes

    def literal_lines(self) -> list[str]:
        """The blob as C string literal bodies, every byte a \\xHH escape (no escape can run on)."""
        d = self.data
        return ["".join(f"\\x{b:02x}" for b in d[i:i + BLOB_LINE]) for i in range(0, len(d), BLOB_LINE)]


@dataclass(frozen=True)
class NetworkSources:
    files: dict[str, bytes]  # file name -> content
    blobs: tuple[WeightBlob, ...]
    plan_hash: str


def _slug(region: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in region.lower())


def _tag(region: str) -> str:
    """Section name suffix: the region name with non-alphanumerics as '_', case kept."""
    return "".join(c if c.isalnum() else "_" for c in region)


def _dtype(t: Tensor) -> str:
    return np.dtype(t.dtype).name


def weight_blobs(plan: Plan) -> tuple[WeightBlob, ...]:
    """One blob per weight region in use, each constant at its planned offset (gaps zero)."""
    primary = plan.target.weight_regions[0].name if plan.target.weight_regions else None
    by_region: dict[str, list] = {}
    for w in plan.weights:
        by_region.setdefault(w.region, []).append(w)
    blobs = []
    for region in sorted(by_region, key=lambda r: (r != primary, r)):
        placed = by_region[region]
        size = max(w.offset + w.size for w in placed)  # = the plan's weights_bytes for the region
        buf = bytearray(size)
        for w in placed:
            raw = np.ascontiguousarray(w.tensor.data).astype(w.tensor.data.dtype.newbyteorder("<"), copy=False)
            data = raw.tobytes()
            buf[w.offset:w.offset + len(data)] = data
        suffix = "" if region == primary else f"_{_slug(region)}"
        blobs.append(WeightBlob(region, f"stm32gen_weights{suffix}", f".weights.{_tag(region)}", bytes(buf)))
    return tuple(blobs)


class _Addresser:
    """C expressions for tensor addresses: arena or blob symbol plus the planned offset."""

    def __init__(self, plan: Plan, blobs: tuple[WeightBlob, ...]) -> None:
        self.plan = plan
        self.blob_symbol = {b.region: b.symbol for b in blobs}
        self.weights = {id(w.tensor): w for w in plan.weights}
        self.by_name = {w.tensor.name: w for w in plan.weights}

    def base(self, t: Tensor) -> str:
        """`symbol + offset` (a uint8_t pointer) of t's first byte."""
        if t.is_constant:
            w = self.weights.get(id(t.storage))
            if w is None:
                raise CodegenError(f"constant tensor {t.name!r} has no place in the memory plan")
            return f"{self.blob_symbol[w.region]} + {w.offset}"
        try:
            region, offset = self.plan.address_of(t)
        except KeyError:
            raise CodegenError(f"tensor {t.name!r} has no place in the memory plan") from None
        return f"{arena_symbol(region)} + {offset}"

    def pointer(self, t: Tensor, writable: bool) -> str:
        ctype = _CTYPES.get(_dtype(t))
        if ctype is None:
            raise CodegenError(f"tensor {t.name!r} has dtype {_dtype(t)}, which the network cannot hold")
        const = "" if writable and not t.is_constant else "const "
        return f"({const}{ctype} *)({self.base(t)})"


def arena_symbol(region: str) -> str:
    return f"stm32gen_arena_{_slug(region)}"


def _c_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '\\"':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def _comment(s: str) -> str:
    return s.replace("*/", "* /")


def _field_value(ctype: str, value, prefix: str, addr: _Addresser) -> str:
    """C initialiser of one params field; an array reference points at the kernel constant's
    place in the weights blob (generator/codegen/constants.py)."""
    if isinstance(value, ArrayRef):
        w = addr.by_name.get(constant_name(prefix, value.name))
        if w is None:
            raise CodegenError(f"kernel constant {prefix}_{value.name} has no place in the memory plan "
                               "(plan with codegen.constants.with_kernel_constants)")
        return f"({ctype})({addr.blob_symbol[w.region]} + {w.offset})"
    return c_literal(ctype, value, prefix)


def _call_context(call: KernelCall, prefix: str, addr: _Addresser) -> dict:
    fields = [{"name": name, "value": _field_value(ctype, value, prefix, addr)} for ctype, name, value in call.params]
    args = [addr.pointer(t, writable=(i == len(call.args) - 1)) for i, t in enumerate(call.args)]
    return {"function": call.function, "params_type": call.params_type, "prefix": prefix, "fields": fields,
            "args": args}


def _tensor_context(t: Tensor, addr: _Addresser) -> dict:
    dtype = _dtype(t)
    if dtype not in DTYPE_CODES:
        raise CodegenError(f"tensor {t.name!r} has dtype {dtype}; network inputs and outputs must be "
                           f"{', '.join(DTYPE_CODES)}")
    if len(t.shape) > 4:
        raise CodegenError(f"tensor {t.name!r} has rank {len(t.shape)}; the network API holds rank <= 4")
    dims = [int(d) for d in t.shape] + [0] * (4 - len(t.shape))
    scale = t.quant.scalar_scale if t.quant is not None else 0.0
    zp = t.quant.scalar_zero_point if t.quant is not None else 0
    return {"name": _c_string(t.name), "dtype": DTYPE_CODES[dtype], "rank": len(t.shape),
            "dims": ", ".join(str(d) for d in dims), "scale": c_literal("float", scale), "zero_point": zp,
            "data": f"(void *)({addr.base(t)})", "bytes": t.nbytes}


def network_context(graph: Graph, plan: Plan, model_name: str, model_sha256: str) -> dict:
    """Everything network.h.j2 / network.c.j2 print, computed here so the templates stay thin."""
    if len(graph.inputs) != 1:
        raise CodegenError(f"the network API has one input; the model has {len(graph.inputs)}")
    blobs = weight_blobs(plan)
    addr = _Addresser(plan, blobs)
    steps = []
    for i, op, calls in operator_calls(graph):
        outs = [o for o in op.outputs if o is not None]
        steps.append({
            "index": i,
            "source_index": op.index,
            "type": op.type,
            "comment": _comment(f"#{i} {op.type} -> {', '.join(o.name for o in outs)}"
                                + ("" if calls else " (a view of bytes already in place: no code)")),
            "calls": [_call_context(call, prefix, addr) for prefix, call in calls],
            "dumps": [{"name": _c_string(o.name), "pointer": f"({addr.base(o)})", "bytes": o.nbytes} for o in outs],
        })
    regions = [{"symbol": arena_symbol(r.name), "section": f".arena.{_tag(r.name)}", "size": r.activations_bytes,
                "name": r.name} for r in plan.regions if r.activations_bytes > 0]
    return {
        "model_name": _comment(model_name),
        "model_sha256": model_sha256,
        "plan_hash": plan_hash(plan),
        "num_ops": len(graph.operators),
        "num_outputs": len(graph.outputs),
        "input_bytes": graph.inputs[0].nbytes,
        "input": _tensor_context(graph.inputs[0], addr),
        "outputs": [_tensor_context(t, addr) for t in graph.outputs],
        "arenas": regions,
        "blobs": [{"symbol": b.symbol, "section": b.section, "size": len(b.data), "region": b.region,
                   "lines": b.literal_lines()} for b in blobs],
        "steps": steps,
        "_blobs": blobs,
    }


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "network")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False,
    )


def render_network(graph: Graph, plan: Plan, model_name: str, model_sha256: str) -> NetworkSources:
    """network.h, network.c and weights.c."""
    ctx = network_context(graph, plan, model_name, model_sha256)
    env = _env()
    files = {
        "network.h": env.get_template("network.h.j2").render(ctx).encode(),
        "network.c": env.get_template("network.c.j2").render(ctx).encode(),
        "weights.c": env.get_template("weights.c.j2").render(ctx).encode(),
    }
    return NetworkSources(files, ctx["_blobs"], ctx["plan_hash"])

