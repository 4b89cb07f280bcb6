"""Run the amendwatch command line in this process and report its peak memory.

``python -m tests.reliability.memprobe [--as-limit MB] ARGS...`` runs ``amendwatch ARGS...``
(optionally under an address-space limit, so that a blow-up would be a ``MemoryError``), then
prints ``PEAK_RSS_KB=<n>`` (this process's peak resident memory) as the last line on stderr
and exits with the command's status.

The peak is ``VmHWM`` from /proc/self/status where there is one: ``getrusage``'s ``ru_maxrss``
also keeps the high-water mark of the process before ``exec`` (Linux carries it over), so a
probe started from a test run that has grown to 300 MB would report 300 MB whatever it did.
"""

from __future__ import annotations

import re
import resource
import sys
from pathlib import Path


def _status(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def peak_kb() -> int:
    """This process's own peak RSS in KB (VmHWM, else getrusage)."""
    status = Path("/proc/self/status")
    if status.exists():
        found = re.search(r"^VmHWM:\s+(\d+)\s+kB", status.read_text(), re.M)
        if found:
            return int(found.group(1))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    if argv[:1] == ["--as-limit"]:
        limit = int(argv[1]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        argv = argv[2:]
    from amendwatch.cli import cli  # noqa: PLC0415 (after the limit is set)

    status = 0
    try:
        cli.main(args=argv, prog_name="amendwatch")
    except SystemExit as exc:
        status = _status(exc.code)
    finally:
        peak = peak_kb()
        print(f"PEAK_RSS_KB={peak}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
