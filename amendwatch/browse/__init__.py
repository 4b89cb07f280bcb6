"""Datasette metadata for `amendwatch browse` (metadata.json, shipped as package data)."""
