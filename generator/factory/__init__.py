"""Test-model factory: write IR graphs as .tflite files and build int8 test models.

- `writer.write_model(graph) -> bytes`: the inverse of `generator.model.reader.read_model_bytes`.
- `ops.op_fixtures(seed, count_per_op)`, `ops.build_*`: single-operator int8 models.
- `ssd.build_ssd_model(seed, input_size)`: a small SSD detector with the structure of ST's models.
"""
