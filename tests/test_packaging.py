"""The wheel carries the templates and target data, and the installed package finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_ships_templates_and_targets_as_package_data(tmp_path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("stm32gen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for data_dir in ("templates", "firmware_targets"):
        shipped = {n for n in names if n.startswith(f"generator/{data_dir}/")}
        in_repo = {f"generator/{p.relative_to(ROOT).as_posix()}" for p in (ROOT / data_dir).rglob("*") if p.is_file()}
        assert in_repo and in_repo <= shipped, sorted(in_repo - shipped)[:5]


def test_package_data_is_found_from_another_working_directory(tmp_path) -> None:
    code = "from generator.resources import templates_dir, targets_dir; print(templates_dir()); print(targets_dir())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
    tdir, fdir = out.stdout.split()
    assert tdir.endswith("templates") and fdir.endswith("firmware_targets")
