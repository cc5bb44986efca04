"""Turning models and errors into text: Keras tables, JSON, markdown. Only here is rich imported."""
