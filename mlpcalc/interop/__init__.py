"""Models in the frameworks' own files: Keras's JSON and .keras archives, ONNX graphs, and
the Keras and PyTorch code that builds a spec. Below the CLI, beside the engine."""
