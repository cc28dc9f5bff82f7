"""One exception tree for everything a user can get wrong.

Every message names the bad value and, where there is a closed set, the allowed ones. The CLI maps
`Stm32genError` to exit code 2 in exactly one place (`generator.cli`); anything else is a bug.
"""

from __future__ import annotations


class Stm32genError(Exception):
    """Base of every error reported to the user as one line, exit code 2."""

    exit_code = 2


class ModelFormatError(Stm32genError):
    """The file is not a readable TFLite flatbuffer (truncated, wrong identifier, corrupt tables)."""


class UnsupportedModelError(Stm32genError):
    """A valid TFLite model that stm32gen cannot target (float model, several subgraphs, ...)."""


class UnsupportedOperatorError(UnsupportedModelError):
    def __init__(self, op_name: str, index: int, reason: str = "") -> None:
        self.op_name = op_name
        self.index = index
        detail = f": {reason}" if reason else ""
        super().__init__(f"operator #{index} {op_name} is not supported{detail}")


class FoldError(UnsupportedModelError):
    """A constant subgraph that should fold could not be evaluated (bad shapes, absurd sizes)."""


class GraphInvariantError(Stm32genError):
    """A pass left the graph inconsistent. Always a bug in stm32gen, reported with the pass name."""


class TargetError(Stm32genError):
    def __init__(self, target_id: str, known_ids: list[str] | tuple[str, ...]) -> None:
        self.target_id = target_id
        self.known_ids = tuple(known_ids)
        super().__init__(f"unknown target '{target_id}'; known targets: {', '.join(sorted(known_ids))}")


class PlanError(Stm32genError):
    """The model's buffers do not fit the target's memory."""


class CodegenError(Stm32genError):
    """The graph cannot be lowered to C (an op/quantization combination the kernels do not cover)."""


class BuildError(Stm32genError):
    """The generated project did not configure, compile, link or pass the section check."""


class ToolMissingError(Stm32genError):
    """An external program (compiler, QEMU, programmer) is not installed."""


class EmulationError(Stm32genError):
    """QEMU failed to start, or the emulated firmware stopped answering."""


class LinkError(Stm32genError):
    """The serial link failed: no port, nothing answering, protocol corruption past retries."""


class DeviceFaultError(LinkError):
    """The firmware reported a HardFault; the message carries its registers."""


class ValidationMismatch(Stm32genError):
    """The device's results differ from the reference (reported, exit code 1)."""

    exit_code = 1
