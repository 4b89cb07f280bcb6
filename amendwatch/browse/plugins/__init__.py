"""Datasette plugins for ``amendwatch browse`` (passed with ``--plugins-dir``)."""
