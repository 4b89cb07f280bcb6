"""Differ stage: align sections of two versions, word-level text diff, classification."""
