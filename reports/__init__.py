"""Reports stage: drafted amendment entries, the weekly digest, rendering (Jinja2)."""
