"""The ONNX opsets `export --to onnx` writes, apart from onnx_export.py so that the CLI's
--opset option knows them without importing onnx and numpy at start-up."""

# Written and run through onnxruntime by the tests; LayerNormalization is an op from 17.
OPSETS = range(17, 22)
DEFAULT_OPSET = OPSETS[0]
