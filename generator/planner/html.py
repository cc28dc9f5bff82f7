"""A self-contained HTML page for a plan: an SVG (time across, address up, one rectangle per buffer,
one lane per region) and the tables. No scripts, no external files."""

from __future__ import annotations

from html import escape

from generator.planner.plan import Plan
from generator.planner.report import overhead_pct

WIDTH = 960
LANE = 220
GAP = 36
LEFT = 90


def _color(n: int) -> str:
    return f"hsl({(n * 137) % 360},60%,62%)"


def render_svg(plan: Plan) -> str:
    used = [r for r in plan.regions if r.activations_bytes]
    ops = max(plan.num_ops, 1)
    height = len(used) * (LANE + GAP) + GAP
    step = (WIDTH - LEFT - 10) / ops
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="monospace" font-size="11">']
    for k, r in enumerate(used):
        top = GAP + k * (LANE + GAP)
        scale = LANE / r.activations_bytes
        parts.append(f'<text x="4" y="{top - 8}">{escape(r.name)}: {r.activations_bytes} of {r.capacity} bytes '
                     f'at {r.arena_base:#010x}</text>')
        parts.append(f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - 10}" height="{LANE}" fill="#f4f4f4" '
                     f'stroke="#999"/>')
        parts.append(f'<text x="4" y="{top + LANE}">+0</text><text x="4" y="{top + 10}">+{r.activations_bytes}</text>')
        for n, p in enumerate(plan.buffers):
            if p.region != r.name:
                continue
            x = LEFT + p.first_op * step
            w = (p.last_op - p.first_op + 1) * step
            y = top + LANE - (p.offset + p.size) * scale
            h = max(p.size * scale, 0.5)
            tip = f"{p.tensor.name}\n{p.size} bytes at {r.name}+{p.offset}, ops {p.first_op}..{p.last_op}"
            parts.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{w:.2f}" height="{h:.2f}" fill="{_color(n)}" '
                         f'stroke="#333" stroke-width="0.3"><title>{escape(tip)}</title></rect>')
    parts.append(f'<text x="{LEFT}" y="{height - 6}">op 0</text>'
                 f'<text x="{WIDTH - 60}" y="{height - 6}">op {ops - 1}</text></svg>')
    return "\n".join(parts)


def render_html(plan: Plan, title: str = "") -> str:
    region_rows = "".join(
        f"<tr><td>{escape(r.name)}</td><td>{r.base:#010x}</td><td>{r.arena_base:#010x}</td><td>{r.capacity}</td>"
        f"<td>{r.activations_bytes}</td><td>{r.weights_bytes}</td></tr>" for r in plan.regions)
    buffer_rows = "".join(
        f"<tr><td>{escape(p.tensor.name)}</td><td>{escape(p.region)}</td><td>{p.offset}</td><td>{p.size}</td>"
        f"<td>{p.first_op}</td><td>{p.last_op}</td></tr>" for p in plan.buffers)
    heading = escape(title or f"memory plan for {plan.target.id}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{heading}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}td:first-child{{text-align:left}}</style></head>
<body><h1>{heading}</h1>
<p>target {escape(plan.target.id)} ({escape(plan.target.name)}), algorithm {escape(plan.algorithm)}:
activations {plan.activations_bytes} bytes, live-set bound {plan.lower_bound_bytes} bytes
(overhead {overhead_pct(plan):.2f}%), weights {plan.weights_bytes} bytes.</p>
{render_svg(plan)}
<h2>Regions</h2><table><tr><th>region</th><th>base</th><th>arena</th><th>capacity</th><th>activations</th>
<th>weights</th></tr>{region_rows}</table>
<h2>Buffers</h2><table><tr><th>tensor</th><th>region</th><th>offset</th><th>size</th><th>first op</th>
<th>last op</th></tr>{buffer_rows}</table>
</body></html>
"""
