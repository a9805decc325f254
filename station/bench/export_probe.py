"""Run one `station` command in this process and report its peak memory (for the bench).

``python -m station.bench.export_probe ARGS...`` prints the command's own output, then a last
line ``PEAK_RSS_KIB <n>`` on stderr. POSIX only (resource); the bench is a POSIX tool.
"""

from __future__ import annotations

import sys


def main() -> None:
    import resource

    from station.cli import cli

    try:
        cli.main(args=sys.argv[1:], prog_name="station", standalone_mode=False)
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"PEAK_RSS_KIB {peak}", file=sys.stderr)


if __name__ == "__main__":
    main()
