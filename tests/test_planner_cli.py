"""`stm32gen targets` and `stm32gen plan` through the Typer app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from conftest import FPNLITE_192, FPNLITE_256
from generator.cli import app

runner = CliRunner()


def test_targets_lists_every_target():
    result = runner.invoke(app, ["targets"])
    assert result.exit_code == 0
    for target_id in ("nucleo-h743zi2", "stm32h747i-disco", "stm32n6570-dk", "qemu-mps2-an500", "qemu-mps3-an547"):
        assert target_id in result.output


def test_targets_show_prints_the_resolved_map_with_sources():
    result = runner.invoke(app, ["targets", "--show", "nucleo-h743zi2"])
    assert result.exit_code == 0
    assert "AXI_SRAM   0x24000000     524288" in result.output and "RM0433" in result.output
    assert "USART3 tx PD8 rx PD9 AF7" in result.output


def test_targets_show_unknown_id_exits_2_listing_the_known_ones():
    result = runner.invoke(app, ["targets", "--show", "nucleo-f401re"])
    assert result.exit_code == 2 and "known targets: host" in result.output


def test_targets_json_is_a_list_of_targets():
    data = json.loads(runner.invoke(app, ["targets", "--json", "--show", "stm32n6570-dk"]).output)
    assert data[0]["id"] == "stm32n6570-dk" and data[0]["weight_order"] == ["XSPI_NOR"]


def test_plan_json_and_html(tmp_path):
    page = tmp_path / "plan.html"
    result = runner.invoke(app, ["plan", str(FPNLITE_192), "--target", "nucleo-h743zi2", "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["target"] == "nucleo-h743zi2" and data["fits"] is True
    assert data["activations_bytes"] <= 1.02 * data["lower_bound_bytes"]
    assert "<svg" in page.read_text()


def test_plan_that_does_not_fit_exits_2_with_what_is_short():
    result = runner.invoke(app, ["plan", str(FPNLITE_256), "--target", "nucleo-h743zi2"])
    assert result.exit_code == 2
    assert "AXI_SRAM short by 262144" in result.output and "Traceback" not in result.output
