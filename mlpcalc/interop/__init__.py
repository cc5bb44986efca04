"""Models in the frameworks' own files: Keras's JSON and .keras archives, ONNX graphs, and
the Keras and PyTorch code that builds a spec. Below the CLI, beside the engine."""

# What Keras writes (model.save("m.keras"), model.to_json()): named here, where the CLI finds a
# model file without importing keras_config.py before it has one to read.
KERAS_SUFFIXES = (".keras", ".json")
