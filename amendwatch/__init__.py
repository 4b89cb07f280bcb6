"""amendwatch: watch guidance manuals, keep every version, diff by section, draft amendments."""

__version__ = "0.1.0"
