"""The memory plan handed to the code generator (see docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.model.ir import Tensor
from generator.targets import Target


@dataclass(frozen=True, slots=True)
class Placement:
    """An activation buffer: `size` bytes at `offset` in region `region`'s arena, live [first_op, last_op]."""

    tensor: Tensor
    region: str
    offset: int
    size: int
    first_op: int
    last_op: int


@dataclass(frozen=True, slots=True)
class WeightPlacement:
    """A constant tensor's bytes at `offset` in the arena of weight region `region`."""

    tensor: Tensor
    region: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class RegionUse:
    name: str
    base: int  # the region's first byte
    size: int  # the whole region
    arena_base: int  # where plan offsets start (base + bytes reserved for the firmware)
    capacity: int  # bytes the plan may use
    activations_bytes: int  # high-water mark of activation buffers
    weights_bytes: int  # end of the last weight placed


@dataclass
class Plan:
    target: Target
    buffers: list[Placement]
    regions: list[RegionUse]
    weights: list[WeightPlacement]
    lower_bound_bytes: int
    num_ops: int
    algorithm: str
    _by_storage: dict[int, Placement | WeightPlacement] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for p in (*self.buffers, *self.weights):
            self._by_storage[id(p.tensor)] = p

    @property
    def fits(self) -> bool:
        return all(r.activations_bytes + r.weights_bytes <= r.capacity for r in self.regions)

    @property
    def activations_bytes(self) -> int:
        return sum(r.activations_bytes for r in self.regions)

    @property
    def weights_bytes(self) -> int:
        return sum(r.weights_bytes for r in self.regions)

    def region(self, name: str) -> RegionUse:
        return next(r for r in self.regions if r.name == name)

    def placement_of(self, tensor: Tensor) -> Placement | WeightPlacement:
        """The placement holding `tensor`'s bytes (through aliases). KeyError if it has none."""
        return self._by_storage[id(tensor.storage)]

    def address_of(self, tensor: Tensor) -> tuple[str, int]:
        """(region name, offset in that region's arena) of `tensor`'s first byte, aliases resolved."""
        p = self.placement_of(tensor)
        return p.region, p.offset + tensor.storage_offset

    def absolute_address(self, tensor: Tensor) -> int:
        region, offset = self.address_of(tensor)
        return self.region(region).arena_base + offset
