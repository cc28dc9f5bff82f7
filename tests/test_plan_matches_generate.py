"""`stm32gen plan` reports the very plan `generate` builds the firmware from."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import ST_SSD_V1_192
from generator.cli import app

runner = CliRunner()


def test_plan_command_and_generated_project_agree_on_every_region(tmp_path) -> None:
    planned = runner.invoke(app, ["plan", str(ST_SSD_V1_192), "--target", "nucleo-h743zi2", "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    generated = runner.invoke(app, ["generate", str(ST_SSD_V1_192), "-t", "nucleo-h743zi2", "--out", str(tmp_path)])
    assert generated.exit_code == 0, generated.output
    manifest = json.loads((tmp_path / "stm32gen.json").read_text())
    used = {r["name"]: (r["activations_bytes"], r["weights_bytes"]) for r in plan["regions"]
            if r["activations_bytes"] or r["weights_bytes"]}
    assert used == {r["name"]: (r["activations_bytes"], r["weights_bytes"]) for r in manifest["plan"]["regions"]
                    if r["activations_bytes"] or r["weights_bytes"]}
    assert plan["weights_bytes"] == sum(w for _, w in used.values())
