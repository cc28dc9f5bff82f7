"""The `stm32gen` command line: each command parses options, calls one stage, renders the result.

Errors: every `Stm32genError` becomes one line on stderr and its exit code (2 for bad input), here
and nowhere else (`_Group.invoke`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

from generator.errors import Stm32genError


class _Group(TyperGroup):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Stm32genError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a path the user named cannot be read or written
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Int8 TFLite detectors to bit-exact STM32 firmware, validated over serial.")
console = Console()

ModelArg = Annotated[Path, typer.Argument(help="An int8 .tflite model.", show_default=False)]
TargetOpt = Annotated[str, typer.Option("--target", "-t", help="Target id (see `stm32gen targets`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
DirArg = Annotated[Path, typer.Argument(help="A project directory written by `stm32gen generate`.")]


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each pipeline stage.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(name)s: %(message)s")


@app.command()
def inspect(model: ModelArg, as_json: JsonOpt = False) -> None:
    """Read a model, fold its constant subgraphs and report layers, MACs and the SSD head."""
    from generator.inspect_report import inspect_model, render_inspect

    report = inspect_model(model)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        render_inspect(report, console)


@app.command("example-model")
def example_model(
    out: Annotated[Path, typer.Argument(help="Where to write the .tflite file.")],
    size: Annotated[int, typer.Option(help="Input height and width in pixels.", min=32, max=320)] = 64,
    seed: Annotated[int, typer.Option(help="Random seed of the weights.")] = 0,
) -> None:
    """Write stm32gen's own small SSD-like int8 detector (same graph structure as ST's models)."""
    from generator.factory.ssd import build_ssd_model

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(build_ssd_model(seed=seed, input_size=size))
    console.print(f"wrote {out} ({out.stat().st_size:,} bytes, {size}x{size} input)")


@app.command()
def generate(model: ModelArg, out: Annotated[Path, typer.Option("--out", "-o", help="Project directory to write.")],
             target: TargetOpt = "host",
             score_threshold: Annotated[float, typer.Option(help="SSD: minimum person score.")] = 0.5,
             iou_threshold: Annotated[float, typer.Option(help="SSD: NMS overlap threshold.")] = 0.5,
             max_detections: Annotated[int, typer.Option(help="SSD: detections kept per image.")] = 10,
             layout: Annotated[str, typer.Option(help="standalone: whole project; middleware: the library only.")]
             = "standalone") -> None:
    """Generate the C network (+ SSD post-processing) and a buildable project for a target."""
    from generator.codegen.project import generate_project
    from generator.postprocess.params import PostprocessParams

    g = generate_project(model, target, out, PostprocessParams(score_threshold, iou_threshold, max_detections), layout)
    console.print(f"wrote {out} for {g.manifest['target']} (plan {g.manifest['plan_hash']})")


@app.command()
def build(project: DirArg,
          variant: Annotated[str, typer.Option(help="Host build: release, debug (tensor dumps) or asan.")] = "release",
          ) -> None:
    """Compile a generated project (native executable for host, firmware image for boards)."""
    from generator.codegen.build import build_project

    result = build_project(project, variant)
    console.print(f"built {getattr(result, 'elf', result)}")
    if getattr(result, "size_report", ""):  # firmware: arm-none-eabi-size memory summary
        console.print(result.size_report.rstrip(), highlight=False)


@app.command()
def run(project: DirArg, input: Annotated[Path, typer.Option("--input", "-i", help=".npy (uint8 HWC/NHWC) or image.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the .npz of outputs.")],
        emulate: Annotated[bool, typer.Option("--emulate", help="Run in QEMU (host projects: the host server).")] = False,
        device: Annotated[str | None, typer.Option("--device", help="Run on a board: pyserial URL.")] = None) -> None:
    """Run one input through a built project; save output_0..n-1 (+ detections, counter) to an .npz."""
    from generator.runner import run_file

    out = out if out.suffix == ".npz" else out.with_name(out.name + ".npz")  # numpy would add it silently
    result = run_file(project, input, out, device=device, emulate=emulate)
    console.print(f"wrote {out}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in result.items() if v.ndim)
                  + "".join(f"; {k} {int(v):,}" for k, v in result.items() if not v.ndim))


@app.command()
def targets(show: Annotated[str | None, typer.Option("--show", help="Print one target's resolved memory map.")] = None,
            as_json: JsonOpt = False) -> None:
    """List the built-in targets, or show one target's memory map, roles, console and flashing."""
    from generator.targets import TARGETS, load_target, render_target, render_targets

    chosen = {show: load_target(show)} if show else TARGETS
    if as_json:
        typer.echo(json.dumps([t.to_dict() for t in chosen.values()], indent=2))
    else:
        typer.echo(render_target(chosen[show]) if show else render_targets(chosen))


@app.command()
def plan(model: ModelArg, target: TargetOpt, as_json: JsonOpt = False,
         html: Annotated[Path | None, typer.Option("--html", help="Also write the plan as an HTML page.")] = None,
         ) -> None:
    """Plan activation and weight memory of a model on a target (or say what is short, and what would help)."""
    from generator.pipeline import load_graph, lower_graph, plan_graph
    from generator.planner.html import render_html
    from generator.planner.report import plan_to_dict, render_text
    from generator.targets import load_target

    result = plan_graph(lower_graph(load_graph(model)), load_target(target))
    if html is not None:
        html.write_text(render_html(result, title=f"{model.name} on {result.target.id}"))
    typer.echo(json.dumps(plan_to_dict(result), indent=2) if as_json else render_text(result))


@app.command()
def flash(project: DirArg,
          tool: Annotated[str | None, typer.Option(help="cubeprogrammer (STM32_Programmer_CLI), pyocd or openocd (default: the board's).")] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the programmer command, do not run it.")] = False,
          ) -> None:
    """Program a built board project (external loader included when weights live in QSPI/XSPI)."""
    from generator.firmware.flash import flash_project

    cmd = flash_project(project, tool, dry_run=dry_run)
    typer.echo(str(cmd) if dry_run else f"flashed with: {cmd}")


@app.command()
def validate(project: DirArg,
             device: Annotated[str | None, typer.Option("--device", help="pyserial URL: /dev/ttyACM0, socket://host:port.")] = None,
             emulate: Annotated[bool, typer.Option("--emulate", help="Run the firmware in QEMU (host projects: the host server).")] = False,
             images: Annotated[list[Path] | None, typer.Option("--images", help="Image file or directory (repeatable).")] = None,
             random: Annotated[int, typer.Option("--random", help="Also N seeded random inputs.")] = 0,
             baud: Annotated[int | None, typer.Option(help="UART baud rate (default: the target's).")] = None,
             json_report: Annotated[Path | None, typer.Option("--json", help="Write the summary JSON here.")] = None,
             html: Annotated[Path | None, typer.Option("--html", help="Write an HTML report here.")] = None,
             resume: Annotated[bool, typer.Option("--resume", help="Skip inputs already in the results log.")] = False) -> None:
    """Run inputs on the device and check every output bit-exact against LiteRT (exit 1 on a mismatch)."""
    from generator.validation.command import run_validate

    run_validate(project, device=device, emulate=emulate, images=images or [], random_n=random, baud=baud,
                 json_path=json_report, html_path=html, resume=resume, console=console)


@app.command()
def emulate(project: DirArg,
            port: Annotated[int | None, typer.Option("--port", help="TCP port for the UART (default: a free one).")] = None,
            stdio: Annotated[bool, typer.Option("--stdio", help="Put the UART on this terminal instead.")] = False,
            seconds: Annotated[float | None, typer.Option("--seconds", help="Stop after this long (default: Ctrl-C).")] = None,
            ) -> None:
    """Boot a built QEMU-target project in qemu-system-arm (-icount) with its UART on a TCP port."""
    from generator.firmware.session import run_emulator

    run_emulator(project, port=port, stdio=stdio, seconds=seconds, on_ready=console.print)


def main() -> None:
    app()
