"""Test equipment for the validation protocol: a Python device simulator, a fault-injecting serial
shim, and a tiny fake network (C source + its Python mirror) for building the real C server on the
host before a generated network exists."""
