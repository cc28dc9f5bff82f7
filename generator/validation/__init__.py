"""On-target validation: the serial protocol, the host link, and the runner that compares a device's
results with the LiteRT reference (see docs/protocol.md)."""
