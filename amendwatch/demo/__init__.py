"""The bundled fictional manual (Northmoor) and the loopback server that serves its editions."""

from amendwatch.demo.server import SITE_DIR, DemoServer, edition_date

__all__ = ["SITE_DIR", "DemoServer", "edition_date"]
