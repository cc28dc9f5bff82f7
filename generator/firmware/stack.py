"""Worst-case stack depth from GCC's `-fcallgraph-info=su` call graphs (one .ci file per object).

Each .ci file is a VCG graph: `node: { title: "fn" label: "fn\\nfile:line:col\\n24 bytes (static)" }`
and `edge: { sourcename: "a" targetname: "b" }`. The depth of a function is its own frame plus the
deepest callee. Limits, stated so the margin can cover them: calls through function pointers
are bounded by the deepest function in the image (GCC records them as calls to `__indirect_call`),
recursion is followed once, and library code without .ci files (memcpy) counts as the
DEFAULT_EXTERNAL bytes below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_NODE = re.compile(r'node:\s*\{\s*title:\s*"([^"]+)"\s*label:\s*"([^"]*)"')
_EDGE = re.compile(r'edge:\s*\{\s*sourcename:\s*"([^"]+)"\s*targetname:\s*"([^"]+)"')
_FRAME = re.compile(r"(\d+) bytes \((static|dynamic|bounded)")

INDIRECT = "__indirect_call"
DEFAULT_EXTERNAL = 128  # a libc leaf (memcpy, memset, division helpers) we have no .ci for
EXCEPTION_FRAME = 104  # Armv7-M/v8-M extended frame with FP context (Armv7-M ARM B1.5.7)


def read_callgraph(files: Iterable[Path]) -> tuple[dict[str, int], dict[str, set[str]]]:
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for path in files:
        text = path.read_text(errors="replace")
        for title, label in _NODE.findall(text):
            m = _FRAME.search(label)
            if m:  # nodes without a size are external declarations
                frames[title] = max(frames.get(title, 0), int(m.group(1)))
        for src, dst in _EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def max_depth(entry: str, frames: dict[str, int], calls: dict[str, set[str]]) -> int:
    """Deepest stack use starting at `entry` (bytes). A call back into a function still being
    walked (recursion) adds nothing: recursion depth is not knowable statically."""
    memo: dict[str, int] = {}
    walking: set[str] = set()

    def callees(fn: str) -> list[str]:
        found = calls.get(fn, set())
        if INDIRECT in found:  # could be any function: take them all
            found = (found - {INDIRECT}) | set(frames)
        return sorted(found)

    def depth(fn: str) -> int:
        if fn in memo:
            return memo[fn]
        if fn in walking:
            return 0
        walking.add(fn)
        d = frames.get(fn, DEFAULT_EXTERNAL) + max((depth(c) for c in callees(fn)), default=0)
        walking.discard(fn)
        memo[fn] = d
        return d

    return depth(entry)


@dataclass(frozen=True, slots=True)
class StackSizes:
    thread: int  # bytes for .stack, margin included
    handler: int  # bytes for .handler_stack, margin included
    thread_depth: int  # deepest thread call path found
    handler_depth: int
    guard: int  # power of two >= the largest single frame (so no frame can jump the MPU guard)


def stack_sizes(build_dir: Path, thread_entry: str, handler_entries: Iterable[str]) -> StackSizes:
    """Stack sizes from the call graphs: each depth plus 25 %, one exception frame and 256 bytes,
    rounded up to 256 bytes."""
    files = sorted(Path(build_dir).rglob("*.ci"))
    frames, calls = read_callgraph(files)
    thread = max_depth(thread_entry, frames, calls)
    handler = max((max_depth(h, frames, calls) for h in handler_entries if h in frames), default=0)

    def sized(raw: int, floor: int) -> int:
        want = raw + raw // 4 + EXCEPTION_FRAME + 256
        return max(floor, (want + 255) // 256 * 256)

    guard = 32
    while guard < max(frames.values(), default=0):
        guard *= 2
    return StackSizes(sized(thread, 1024), sized(handler, 1024), thread, handler, guard)
