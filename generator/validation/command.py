"""The body of `stm32gen validate DIR`: project + device (or emulator) + inputs -> report, exit status."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from rich.console import Console

from generator.analysis import layers
from generator.errors import Stm32genError, ValidationMismatch
from generator.firmware.emulate import Emulator
from generator.model.reader import read_model
from generator.pipeline import load_graph
from generator.validation import report
from generator.validation.hostserver import HostServer
from generator.validation.inputs import collect_inputs
from generator.validation.project import ProjectInfo, load_project
from generator.validation.reference import LiteRTReference
from generator.validation.runner import Expectations, validate

DEFAULT_BAUD = 115200


def device_url(project: ProjectInfo, device: str | None, emulate: bool) -> AbstractContextManager[str]:
    """The URL to talk to: the given device, the host build's server on a pty, or QEMU."""
    if (device is None) == (not emulate):
        raise Stm32genError("give exactly one of --device URL and --emulate")
    if device is not None:
        return nullcontext(device)
    if project.target == "host":
        exe = project.dir / "build" / "stm32gen_server"
        if not exe.is_file():
            raise Stm32genError(f"{exe} does not exist: run `stm32gen build {project.dir}` first")
        return HostServer(exe)
    return Emulator(project.dir)


def _macs(model_path: Path) -> int:
    return sum(layer.macs for layer in layers(load_graph(model_path)))


def target_baud(target_id: str | None) -> int:
    """The baud rate the target's firmware configures its UART for: 115200 for a manifest without a
    target or a target without a UART (host); an id no target file defines raises TargetError, since
    guessing a rate would only turn into a baffling silence on the port."""
    from generator.targets import load_target

    uart = load_target(target_id).uart if target_id else None
    return uart.baud if uart is not None else DEFAULT_BAUD


def run_validate(
    project_dir: Path,
    *,
    device: str | None,
    emulate: bool,
    images: Sequence[Path],
    random_n: int,
    baud: int | None = None,
    json_path: Path | None = None,
    html_path: Path | None = None,
    resume: bool = False,
    console: Console | None = None,
) -> dict:
    """Validate and report; raises ValidationMismatch (exit 1) unless every input matched."""
    console = console or Console()
    project = load_project(project_dir)
    log_path = project.dir / "validation" / "results.jsonl"
    # Everything the user can get wrong is checked before a port is opened or QEMU boots.
    baud = baud or target_baud(project.target)
    shape = tuple(int(d) for d in read_model(project.model_path).inputs[0].shape)
    expect = Expectations(project.model_sha256, project.plan_hash, project.macs or _macs(project.model_path), shape)
    inputs = collect_inputs(images, random_n, shape)
    for path in (json_path, html_path):
        if path:
            report.check_writable(path)
    with device_url(project, device, emulate) as url:
        outcome = validate(
            url,
            inputs,
            lambda info: LiteRTReference(project.model_path, info, project.postprocess),
            expect,
            log_path,
            resume=resume,
            baud=baud,
            console=console,
        )
    summary = report.summarize(outcome.records, outcome.info, expect.macs, outcome.retransmissions)
    report.render_table(summary, console)
    if json_path:
        report.write_json(json_path, summary)
    if html_path:
        report.write_html(html_path, summary, outcome.records)
    if not summary["ok"]:
        raise ValidationMismatch(
            f"{len(summary['failures'])} of {summary['images']} inputs differ from the reference (details in {log_path})"
        )
    return summary
