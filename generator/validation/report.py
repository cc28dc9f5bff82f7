"""Summaries of a validation run: the JSON report, the terminal table and a one-page HTML report."""

from __future__ import annotations

import html
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from generator.errors import Stm32genError
from generator.validation.protocol import DeviceInfo

_KIND_KEYS = {"cycles": "cycles_per_inference", "instructions": "instructions_per_inference"}


def counter_key(kind: str) -> str:
    return _KIND_KEYS.get(kind, f"{kind}_per_inference")


def _diff_text(o: dict) -> str:
    return f"{o['mismatches']} differ, max |diff| {o['max_abs_diff']}, first at index {o['first_mismatch']}"


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.0%}"


def failure_reason(rec: dict) -> str:
    bad = [o for o in rec["outputs"] if not o["match"]]
    parts = [f"{o['name']}: {o.get('error') or _diff_text(o)}" for o in bad]
    det = rec.get("detections")
    if det and not det["exact"]:
        parts.append(
            f"detections: {det['device']} on device vs {det['fixed']} fixed reference, first difference at #{det['first_difference']}"
        )
    return "; ".join(parts)


def summarize(records: list[dict], info: DeviceInfo, macs: int | None = None, retransmissions: int = 0) -> dict:
    n = len(records)
    dets = [r["detections"] for r in records if r.get("detections") is not None]
    rates = [r["float_match_rate"] for r in records if r.get("float_match_rate") is not None]
    counters = [r["counter"] for r in records]
    kind = records[0]["counter_kind"] if records else info.counter_kind
    summary = {
        "images": n,
        "bit_exact": n > 0 and all(r["bit_exact"] for r in records),
        "bit_exact_inputs": sum(r["bit_exact"] for r in records),
        "detections_exact": (all(d["exact"] for d in dets) if dets else None),
        "float_match_rate": (sum(rates) / len(rates) if rates else None),
        "counter_kind": kind,
        counter_key(kind): (round(sum(counters) / n) if n else None),
        "macs": macs,
        "failures": [{"input": r["input"], "reason": failure_reason(r)} for r in records if not r["ok"]],
        "resets": sum(r.get("resets", 0) for r in records),
        "retransmissions": retransmissions,
        "device": {"target": info.target_id, "model_sha256": info.model_sha256, "plan_hash": info.plan_hash},
    }
    summary["ok"] = n > 0 and not summary["failures"]
    return summary


class ReportPathError(Stm32genError):
    """A --json/--html path that cannot be written."""


def check_writable(path: Path) -> None:
    """Fail before the run, not after it: open the report path for appending (creating nothing that
    was not there)."""
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as e:
        raise ReportPathError(f"cannot write report '{path}': {e.strerror or e}") from None
    if not existed:
        path.unlink()


def write_json(path: Path, summary: dict) -> None:
    path.write_text(json.dumps(summary, indent=2) + "\n")


def render_table(summary: dict, console: Console) -> None:
    t = Table(title=f"validation on {summary['device']['target']} (model {summary['device']['model_sha256'][:12]})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    n = summary["images"]
    t.add_row("inputs", str(n))
    t.add_row("bit-exact outputs", f"{summary['bit_exact_inputs']}/{n}")
    if summary["detections_exact"] is not None:
        t.add_row("detections exact (fixed)", "yes" if summary["detections_exact"] else "NO")
    if summary["float_match_rate"] is not None:
        t.add_row("match rate vs float decoder", f"{summary['float_match_rate']:.1%}")
    key = counter_key(summary["counter_kind"])
    if summary.get(key) is not None:
        t.add_row(key.replace("_", " "), f"{summary[key]:,}")
    if summary["macs"]:
        t.add_row("MACs", f"{summary['macs']:,}")
    t.add_row("device resets recovered", str(summary["resets"]))
    t.add_row("retransmitted frames", str(summary["retransmissions"]))
    console.print(t)
    for f in summary["failures"][:20]:
        console.print(f"[red]MISMATCH[/] {f['input']}: {f['reason']}", highlight=False)
    if len(summary["failures"]) > 20:
        console.print(f"... and {len(summary['failures']) - 20} more (see the JSONL log)")


def write_html(path: Path, summary: dict, records: list[dict]) -> None:
    esc = html.escape
    rows = "\n".join(
        f"<tr class='{'ok' if r['ok'] else 'bad'}'><td>{esc(r['input'])}</td><td>{'yes' if r['bit_exact'] else 'NO'}</td>"
        f"<td>{'' if r['detections'] is None else ('yes' if r['detections']['exact'] else 'NO')}</td>"
        f"<td>{_pct(r['float_match_rate'])}</td>"
        f"<td>{r['counter']:,}</td><td>{esc(failure_reason(r)) if not r['ok'] else ''}</td></tr>"
        for r in records
    )
    facts = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>"
        for k, v in summary.items()
        if k not in ("failures", "device")
    )
    path.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>stm32gen validation</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}} tr.bad{{background:#fdd}}</style></head>
<body><h1>Validation: {"PASS" if summary["ok"] else "FAIL"}</h1>
<p>target {esc(summary["device"]["target"])}, model sha256 {esc(summary["device"]["model_sha256"])},
plan {esc(summary["device"]["plan_hash"])}</p>
<table>{facts}</table>
<h2>Inputs</h2>
<table><tr><th>input</th><th>bit-exact</th><th>detections exact</th><th>float match</th><th>{esc(summary["counter_kind"])}</th><th>why</th></tr>
{rows}
</table></body></html>
""")
