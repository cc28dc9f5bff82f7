"""The table of contents: a model goes read → fold → lower → plan → emit → build → validate.

Each stage lives in its own module; this file only strings them together."""

from __future__ import annotations

import logging
from pathlib import Path

from generator.model.ir import Graph
from generator.model.reader import read_model
from generator.passes import LOWERING, PASSES, run_passes
from generator.planner import Plan, plan_memory, verify_plan
from generator.support import check_support
from generator.targets import Target

log = logging.getLogger("stm32gen")


def load_graph(path: str | Path) -> Graph:
    """Read a model and fold everything that is constant for its fixed input size."""
    log.info("read %s", path)
    graph = read_model(path)
    log.info("fold")
    graph = run_passes(graph, PASSES)
    check_support(graph)
    return graph


def lower_graph(graph: Graph) -> Graph:
    """Rewrite a loaded graph into the form the generated C network implements (in place)."""
    log.info("lower")
    return run_passes(graph, LOWERING)


def plan_graph(graph: Graph, target: Target) -> Plan:
    """The memory plan the firmware is built from: activations, weights, and the kernels' constant
    tables (per-channel multipliers, LUTs), which live beside the weights."""
    from generator.codegen.constants import with_kernel_constants

    log.info("plan for %s", target.id)
    plan = with_kernel_constants(plan_memory(graph, target), graph)
    verify_plan(plan, graph)  # the plan the firmware is built from, checked again with its tables
    return plan
