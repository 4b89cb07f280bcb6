"""amendwatch: watch guidance manuals, keep every version, diff by section, draft amendments."""

# The one place the version is written: setuptools reads it for the package metadata
# (pyproject.toml, [tool.setuptools.dynamic]); `amendwatch --version` and the default
# User-Agent (scraper/policy.py) use it. Keep this module free of imports: it is read at start-up.
__version__ = "0.1.0"
