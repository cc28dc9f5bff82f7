"""`stm32gen validate`: feed inputs to a device, compare with the reference, log and summarise.

Each result is appended to a JSONL log as one complete line the moment it is known, so an
interrupted run leaves a valid log and `resume=True` continues where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from generator.errors import LinkError, Stm32genError
from generator.validation import compare
from generator.validation.inputs import InputItem
from generator.validation.link import DeviceResetError, Link
from generator.validation.protocol import DeviceInfo
from generator.validation.reference import Expected

MAX_RESETS_PER_INPUT = 3


class ValidationInterrupted(Stm32genError):
    """Ctrl-C: the log holds every finished input; --resume continues."""

    exit_code = 130


@dataclass
class DeviceResult:
    outputs: list[bytes | None]  # None: not read (a constant output already checked this session)
    detections: list[tuple[int, ...]]
    counter: int
    counter_kind: str
    resets: int


@dataclass
class Expectations:
    """What the device must be: checked at the handshake and after every reboot."""

    model_sha256: str | None
    plan_hash: str | None = None
    macs: int | None = None
    input_shape: tuple[int, ...] | None = None  # the model's, to refuse firmware with another input


@dataclass
class RunOutcome:
    records: list[dict]
    info: DeviceInfo
    skipped: int = 0  # inputs whose result --resume reused
    retransmissions: int = 0
    discarded: int = 0  # inputs --resume redid because their logged result came from other firmware
    summary: dict = field(default_factory=dict)


def constant_outputs(info: DeviceInfo) -> set[int]:
    """float32 outputs are model constants (network.h: e.g. SSD anchors): the same bytes after every
    inference, so they are read and compared once per session. At 115200 baud the 192 model's anchors
    alone take 5 s to read."""
    return {i for i, sig in enumerate(info.outputs) if sig.dtype == "float32"}


def infer(link: Link, item_bytes: bytes, expect: Expectations, skip: set[int] = frozenset()) -> DeviceResult:
    """One inference, redone from the input upload when the device reboots part-way (up to 3 times).
    Outputs whose index is in `skip` are not read (None)."""
    resets = 0
    while True:
        try:
            link.write_input(item_bytes)
            run = link.run()
            outs = [None if i in skip else link.read_output(i, sig.nbytes) for i, sig in enumerate(link.info.outputs)]
            dets = link.read_detections() if link.info.max_detections else []
            return DeviceResult(outs, dets, run.counter, run.counter_kind, resets)
        except DeviceResetError:
            resets += 1
            if resets > MAX_RESETS_PER_INPUT:
                raise LinkError(
                    f"device on {link.url} rebooted {resets} times on the same input: it crashes on it"
                ) from None
            link.handshake(expect.model_sha256, expect.plan_hash)


def make_record(key: str, res: DeviceResult, exp: Expected, info: DeviceInfo, model_sha: str) -> dict:
    """One JSONL line; model_sha256 + plan_hash + target name the firmware, which is what --resume
    matches a finished record against."""
    outs = [
        compare.compare_output(sig.name, dev, ref)
        for sig, dev, ref in zip(info.outputs, res.outputs, exp.outputs, strict=True)
        if dev is not None
    ]
    rec: dict = {
        "input": key,
        "model_sha256": model_sha,
        "plan_hash": info.plan_hash,
        "target": info.target_id,
        "bit_exact": all(o["match"] for o in outs),
        "outputs": outs,
        "counter": res.counter,
        "counter_kind": res.counter_kind,
        "resets": res.resets,
        "detections": None,
        "float_match_rate": None,
    }
    if info.max_detections and exp.fixed is None:
        # Outputs alone must not pass a device whose detections went unchecked.
        raise Stm32genError(f"input {key}: the device made detections but the reference has none to compare")
    if exp.fixed is not None:
        rec["detections"] = compare.detections_exact(res.detections, exp.fixed)
    if exp.float is not None:
        rec["float_match_rate"] = compare.float_match_rate(res.detections, exp.float)
    rec["ok"] = rec["bit_exact"] and (rec["detections"] is None or rec["detections"]["exact"])
    return rec


def read_log(path: Path, model_sha: str | None = None) -> list[dict]:
    """Finished records (of this model, when given); a line cut short by a crash is ignored, not an error."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "input" in rec and (model_sha is None or rec.get("model_sha256") == model_sha):
            out.append(rec)
    return out


def same_firmware(rec: dict, info: DeviceInfo) -> bool:
    """Was this record produced by the firmware now on the device? (records from before the fields
    existed are not: they cannot be told apart)"""
    return (
        str(rec.get("model_sha256", "")).lower() == info.model_sha256.lower()
        and str(rec.get("plan_hash", "")).lower() == info.plan_hash.lower()
        and rec.get("target") == info.target_id
    )


def resumable(path: Path, info: DeviceInfo, keys: Sequence[str]) -> tuple[dict[str, dict], int]:
    """The log's records this run can reuse, by input, and how many of this run's inputs have a
    record only from other firmware (those are redone)."""
    done: dict[str, dict] = {}
    stale: set[str] = set()
    for rec in read_log(path):
        if same_firmware(rec, info):
            done[rec["input"]] = rec
        else:
            stale.add(rec["input"])
    wanted = set(keys)
    return {k: r for k, r in done.items() if k in wanted}, len((stale - done.keys()) & wanted)


def append_record(path: Path, rec: dict) -> None:
    # One os.write of a whole line on an O_APPEND descriptor: Ctrl-C lands before or after it, never inside.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(rec, separators=(",", ":")) + "\n").encode())
    finally:
        os.close(fd)


def validate(
    url: str,
    inputs: Sequence[InputItem],
    make_reference: Callable[[DeviceInfo], object],
    expect: Expectations,
    log_path: Path,
    *,
    resume: bool = False,
    baud: int = 115200,
    console: Console | None = None,
    link_factory: Callable[..., Link] = Link,
    progress: bool = True,
) -> RunOutcome:
    """Run `inputs` (collected and checked by the caller before any device is touched). The log is
    truncated, or read for --resume, only once the device has answered the handshake: a run that
    cannot connect leaves the previous log as it was."""
    console = console or Console(stderr=True)
    items = list(inputs)
    with link_factory(
        url, baud, on_text=lambda line: console.print(f"[dim]device: {line}[/]", highlight=False)
    ) as link:
        info = link.handshake(expect.model_sha256, expect.plan_hash)
        if expect.input_shape is not None and tuple(info.input.shape) != tuple(expect.input_shape):
            raise LinkError(
                f"device input is {list(info.input.shape)}, the model's is {list(expect.input_shape)}: flash the "
                f"firmware generated from this model"
            )
        reference = make_reference(info)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        done: dict[str, dict] = {}
        discarded = 0
        if resume:
            done, discarded = resumable(log_path, info, [it.key for it in items])
            if discarded:
                console.print(
                    f"--resume: {discarded} finished result(s) in {log_path} came from other firmware (model, "
                    f"plan or target differ from the device's) and are redone"
                )
        else:
            log_path.write_text("")
        todo = [it for it in items if it.key not in done]
        records = [done[it.key] for it in items if it.key in done]
        bar: AbstractContextManager = (
            Progress(
                TextColumn("validating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            if progress
            else nullcontext()
        )
        try:
            with bar as prog:
                task = prog.add_task("validate", total=len(items), completed=len(records), status="") if prog else None
                checked: set[int] = set()
                for item in todo:
                    image = item.load()
                    res = infer(link, image.tobytes(), expect, skip=checked)
                    checked = constant_outputs(info)
                    rec = make_record(
                        item.key, res, reference.expected(image), info, expect.model_sha256 or info.model_sha256
                    )
                    append_record(log_path, rec)
                    records.append(rec)
                    if prog:
                        bad = sum(not r["ok"] for r in records)
                        prog.update(task, advance=1, status=f"{bad} mismatched" if bad else "all matched")
        except KeyboardInterrupt:
            raise ValidationInterrupted(
                f"interrupted after {len(records)} of {len(items)} inputs; {log_path} holds every finished "
                f"result, run again with --resume to continue"
            ) from None
    return RunOutcome(
        records, info, skipped=len(items) - len(todo), retransmissions=link.retransmissions, discarded=discarded
    )
