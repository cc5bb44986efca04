"""Turning models and errors into text for people. Only here (and in the CLI) is rich imported."""

STYLES = ("keras", "classic")  # keras: Keras 3's rich table; classic: tf.keras 2's text
FORMATS = ("table", "markdown", "json")
