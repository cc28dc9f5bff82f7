"""Firmware projects: render (project.py), build (build.py), check sections (sections.py), boot in
QEMU (emulate.py) and flash (flash.py)."""
