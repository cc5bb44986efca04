"""Turning models and errors into text for people. Only here (and in the CLI) is rich imported."""

# keras: Keras 3's rich table; classic: tf.keras 2's text; torchinfo: torchinfo.summary() of the
# PyTorch model `export --to pytorch` writes (render/torchinfo.py; summary's alone)
STYLES = ("keras", "classic", "torchinfo")
TABLE_STYLES = STYLES[:2]  # variables and forward print Keras's or tf.keras 2's text, no torchinfo
FORMATS = ("table", "markdown", "json")
COMPARE_FORMATS = ("table", "markdown", "csv", "json")  # compare's; json is documents.py's
