"""The NumPy engine: real weights for a Model, and its forward pass, as Keras computes it.

It only reads the model: shapes and counts stay the model's job. Only here is numpy imported.
"""
