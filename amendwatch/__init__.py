"""amendwatch: watch guidance manuals, keep every version, diff by section, draft amendments."""

import sys

# The one place the version is written: setuptools reads it for the package metadata
# (pyproject.toml, [tool.setuptools.dynamic]); `amendwatch --version` and the default
# User-Agent (scraper/policy.py) use it. Keep this module free of other imports: it is read at
# start-up.
__version__ = "0.1.0"

# httpx imports its own command-line client (click, rich and pygments: about 35 ms of every
# command) unless that import fails, which it provides for (`except ImportError`: its `main`
# then only prints a hint). amendwatch never runs it; a None entry makes that import fail.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
