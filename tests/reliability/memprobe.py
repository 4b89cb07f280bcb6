"""Run the amendwatch command line in this process and report its peak memory.

``python -m tests.reliability.memprobe [--as-limit MB] ARGS...`` runs ``amendwatch ARGS...``
(optionally under an address-space limit, so that a blow-up would be a ``MemoryError``), then
prints ``PEAK_RSS_KB=<n>`` (``getrusage`` of this process) as the last line on stderr and
exits with the command's status.
"""

from __future__ import annotations

import resource
import sys


def _status(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


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
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"PEAK_RSS_KB={peak}", file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
