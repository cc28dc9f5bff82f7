"""The planner on the real models and targets: every plan verified, at the live-set bound, placed
where the board's roles say, and refused with a clear message when it cannot fit."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import FPNLITE_192, FPNLITE_256, FPNLITE_416, REAL_MODELS
from generator.errors import PlanError
from generator.model.reader import read_model
from generator.pipeline import load_graph, lower_graph
from generator.planner import plan_memory
from generator.planner.bound import lower_bound
from generator.planner.html import render_html
from generator.planner.lifetimes import buffer_lifetimes
from generator.planner.report import plan_to_dict, render_text
from generator.planner.verify import PlanVerificationError, verify_plan
from generator.targets import TARGETS, load_target

# The only model x target pairs that cannot fit: no bank of the NUCLEO-H743ZI2 holds the 256 and 416
# models' first expanded activation (128x128x48 and 208x208x48 bytes), and the board has no external RAM.
DOES_NOT_FIT = {("ssd_mobilenet_v2_fpnlite_035_256_int8", "nucleo-h743zi2"),
                ("ssd_mobilenet_v2_fpnlite_035_416_int8", "nucleo-h743zi2")}


@pytest.fixture(scope="module")
def graphs():
    return {p.stem: lower_graph(load_graph(p)) for p in REAL_MODELS}


@pytest.fixture(scope="module")
def plans(graphs):
    out = {}
    for name, graph in graphs.items():
        for target_id, target in TARGETS.items():
            try:
                out[name, target_id] = plan_memory(graph, target)
            except PlanError as exc:
                out[name, target_id] = exc
    return out


def test_exactly_the_expected_pairs_do_not_fit(plans):
    assert {k for k, v in plans.items() if isinstance(v, PlanError)} == DOES_NOT_FIT


def test_every_plan_verifies_and_is_within_2_percent_of_the_bound(plans, graphs):
    for (name, target_id), plan in plans.items():
        if isinstance(plan, PlanError):
            continue
        verify_plan(plan, graphs[name])
        assert plan.fits
        assert plan.activations_bytes <= 1.02 * plan.lower_bound_bytes, (name, target_id)
        for r in plan.regions:
            assert r.activations_bytes <= r.capacity and r.weights_bytes <= r.capacity


def test_h743_holds_fpnlite_192_in_internal_ram(plans):
    plan = plans[FPNLITE_192.stem, "nucleo-h743zi2"]
    target = load_target("nucleo-h743zi2")
    assert {target.region(p.region).external for p in plan.buffers} == {False}
    assert {w.region for w in plan.weights} == {"FLASH"}


def test_h743_refuses_fpnlite_256_naming_the_buffer_and_each_bank(plans):
    message = str(plans[FPNLITE_256.stem, "nucleo-h743zi2"])
    assert "1x128x128x48 int8 (786432 bytes) is larger than every activation region" in message
    assert "AXI_SRAM short by 262144" in message and "DTCM short by" in message
    assert "no external RAM" in message and "stm32h747i-disco" in message
    assert "smaller input size" in message


def test_n6_puts_activations_in_axisram_and_weights_in_xspi_flash(plans):
    for model in (FPNLITE_192, FPNLITE_256):
        plan = plans[model.stem, "stm32n6570-dk"]
        assert {p.region for p in plan.buffers} <= {f"AXISRAM{i}" for i in range(1, 7)}
        assert {w.region for w in plan.weights} == {"XSPI_NOR"}


def test_416_on_h747_uses_sdram_only_for_what_cannot_fit_inside(plans, graphs):
    plan = plans[FPNLITE_416.stem, "stm32h747i-disco"]
    target = load_target("stm32h747i-disco")
    largest_internal = max(r.capacity for r in target.activation_regions if not r.external)
    must_go_out = [b for b in buffer_lifetimes(graphs[FPNLITE_416.stem]) if b.size > largest_internal]
    assert len(must_go_out) == 3  # 208x208x16 twice and the 208x208x48 expanded activation
    # SDRAM is no bigger than what those need at their busiest op: everything else is inside.
    assert plan.region("SDRAM").activations_bytes == lower_bound(must_go_out) == 208 * 208 * 48
    assert any(not target.region(p.region).external for p in plan.buffers)
    graph = graphs[FPNLITE_416.stem]
    assert plan.address_of(graph.inputs[0])[0] != "SDRAM"


def test_inputs_and_outputs_are_inside_the_plan(plans, graphs):
    for name, graph in graphs.items():
        plan = plans[name, "host"]
        for t in (*graph.inputs, *graph.outputs):
            region, offset = plan.address_of(t)
            assert 0 <= offset < plan.region(region).capacity


def test_lifetimes_follow_the_documented_convention(graphs):
    graph = graphs[FPNLITE_192.stem]
    spans = {id(b.tensor): b for b in buffer_lifetimes(graph)}
    last = len(graph.operators) - 1
    assert spans[id(graph.inputs[0].storage)].first_op == 0
    for t in graph.outputs:
        if not t.is_constant:
            assert spans[id(t.storage)].last_op == last
    for i, op in enumerate(graph.operators):
        for t in (*op.inputs, *op.outputs):
            if t is None or t.is_constant:
                continue
            assert id(t) in spans or t.alias_of is not None  # aliases own no memory
            span = spans[id(t.storage)]
            assert span.first_op <= i <= span.last_op
    assert not any(b.tensor.is_constant for b in spans.values())


def test_unfolded_graph_plans_no_buffer_for_shape_arithmetic():
    graph = read_model(FPNLITE_192)
    producers = graph.producers()
    for b in buffer_lifetimes(graph):
        op = producers.get(id(b.tensor))
        assert op is None or op.type not in {"SHAPE", "STRIDED_SLICE", "PACK", "TILE"}, b.name


def test_verify_plan_names_two_buffers_moved_onto_each_other(plans, graphs):
    plan = plans[FPNLITE_192.stem, "host"]
    a, b = plan.buffers[0], plan.buffers[1]  # graph input and the first op's output: live together
    moved = dataclasses.replace(b, offset=a.offset, region=a.region)
    bad = dataclasses.replace(plan, buffers=[a, moved, *plan.buffers[2:]])
    with pytest.raises(PlanVerificationError, match="overlap") as err:
        verify_plan(bad)
    assert a.tensor.name in str(err.value) and b.tensor.name in str(err.value)


def test_verify_plan_catches_a_buffer_outside_its_region_and_a_short_lifetime(plans, graphs):
    plan = plans[FPNLITE_192.stem, "nucleo-h743zi2"]
    p = plan.buffers[0]
    outside = dataclasses.replace(p, offset=load_target("nucleo-h743zi2").region(p.region).capacity)
    with pytest.raises(PlanVerificationError, match="outside"):
        verify_plan(dataclasses.replace(plan, buffers=[outside, *plan.buffers[1:]]))
    short = dataclasses.replace(p, last_op=p.first_op)
    with pytest.raises(PlanVerificationError, match="planned live"):
        verify_plan(dataclasses.replace(plan, buffers=[short, *plan.buffers[1:]]), graphs[FPNLITE_192.stem])


def test_plans_are_deterministic(graphs):
    graph = graphs[FPNLITE_416.stem]
    target = load_target("stm32n6570-dk")
    assert plan_to_dict(plan_memory(graph, target)) == plan_to_dict(plan_memory(graph, target))


def test_linear_baseline_plans_fpnlite_192_on_host(graphs):
    plan = plan_memory(graphs[FPNLITE_192.stem], load_target("host"), algorithm="linear")
    assert plan.activations_bytes == sum(p.size for p in plan.buffers) > plan.lower_bound_bytes


def test_json_report_has_the_documented_keys(plans):
    d = plan_to_dict(plans[FPNLITE_192.stem, "stm32h747i-disco"])
    assert {"target", "fits", "activations_bytes", "lower_bound_bytes", "weights_bytes", "regions", "buffers"} <= set(d)
    assert set(d["regions"][0]) >= {"name", "base", "size", "activations_bytes", "weights_bytes"}
    assert set(d["buffers"][0]) == {"tensor", "region", "offset", "size", "first_op", "last_op"}


def test_text_picture_has_one_row_per_op_and_html_one_rect_per_buffer(plans):
    plan = plans[FPNLITE_192.stem, "stm32n6570-dk"]
    text = render_text(plan)
    assert "live-set bound 552960" in text
    rows = [line for line in text.splitlines() if line[:4].strip().isdigit() and "|" in line]
    assert len(rows) == plan.num_ops
    page = render_html(plan)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert page.count("<title>") - 1 == len(plan.buffers)  # one tooltip per buffer rectangle


def _with_capacity(target_id: str, **capacity: int):
    """The target with some regions shrunk to `capacity` bytes (by reserving the rest)."""
    target = load_target(target_id)
    regions = tuple(dataclasses.replace(r, reserved=r.size - capacity[r.name]) if r.name in capacity else r
                    for r in target.regions)
    return dataclasses.replace(target, regions=regions)


def test_weights_fill_internal_flash_first_then_spill_to_qspi(graphs):
    target = _with_capacity("stm32h747i-disco", FLASH=512 * 1024)
    plan = plan_memory(graphs[FPNLITE_192.stem], target)
    regions = [w.region for w in plan.weights]
    assert "FLASH" in regions and "QSPI" in regions
    assert plan.region("FLASH").weights_bytes <= 512 * 1024
    assert regions.index("FLASH") < regions.index("QSPI")  # first-used weights stay internal


def test_weights_that_fit_nowhere_name_the_shortfall(graphs):
    target = _with_capacity("nucleo-h743zi2", FLASH=256 * 1024)
    with pytest.raises(PlanError, match=r"weights need \d+ bytes but nucleo-h743zi2's weight regions hold 262144"):
        plan_memory(graphs[FPNLITE_192.stem], target)


def test_activations_that_overflow_name_the_region_and_the_bytes(graphs):
    target = _with_capacity("host", RAM=900 * 1024)  # holds the largest buffer, not the live set
    with pytest.raises(PlanError, match=r"983040 bytes are live at once and the best plan overflows RAM by 61440 bytes"):
        plan_memory(graphs[FPNLITE_256.stem], target)


def test_verify_plan_catches_an_alias_running_past_its_storage(plans, graphs):
    graph = graphs[FPNLITE_192.stem]
    alias = next(t for t in graph.tensors() if t.alias_of is not None and not t.is_constant)
    saved = alias.alias_offset
    try:
        alias.alias_offset = alias.storage.nbytes  # one slice too far
        with pytest.raises(PlanVerificationError, match="runs past its storage"):
            verify_plan(plans[FPNLITE_192.stem, "host"], graph)
    finally:
        alias.alias_offset = saved


def test_a_pinned_input_stays_where_it_was_pinned(graphs):
    graph = graphs[FPNLITE_192.stem]
    name = graph.inputs[0].name
    plan = plan_memory(graph, load_target("nucleo-h743zi2"), pinned={name: ("SRAM2", 4096)})
    assert plan.address_of(graph.inputs[0]) == ("SRAM2", 4096)  # plan_memory also ran verify_plan


@pytest.mark.parametrize(("pin", "message"), [
    ({"no-such-tensor": ("AXI_SRAM", 0)}, "no activation buffer has that name"),
    ({"serving_default_input_1:0": ("FLASH", 0)}, "activation regions of nucleo-h743zi2 are"),
    ({"serving_default_input_1:0": ("AXI_SRAM", 16)}, "32-byte aligned"),
    ({"serving_default_input_1:0": ("SRAM3", 0)}, "bytes free before the arena's end"),
])
def test_bad_pins_are_refused_naming_the_tensor(graphs, pin, message):
    with pytest.raises(PlanError, match=message):
        plan_memory(graphs[FPNLITE_192.stem], load_target("nucleo-h743zi2"), pinned=pin)
