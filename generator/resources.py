"""Where the package data lives: next to the package in a wheel, at the repository root in a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@cache
def _data_dir(name: str) -> Path:
    for candidate in (_PKG / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"stm32gen package data '{name}' is missing from {_PKG}")


def templates_dir() -> Path:
    return _data_dir("templates")


def targets_dir() -> Path:
    return _data_dir("firmware_targets")
