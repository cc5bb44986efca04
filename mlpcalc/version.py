"""mlpcalc's version, in a module of its own: what the files mlpcalc writes say of their maker
(ONNX producer, .keras metadata, --version) without importing the package's front door."""

__version__ = "0.1.0"
