"""Run one `station` command in this process and report its peak memory (for the bench).

``python -m station.bench.export_probe ARGS...`` prints the command's own output, then a last
line ``PEAK_RSS_KIB <n>`` on stderr. POSIX only (resource); the bench is a POSIX tool.
"""

from __future__ import annotations

import sys
from pathlib import Path


def peak_rss_kib() -> int:
    """This process's peak RSS. On Linux VmHWM (reset by exec: ru_maxrss is not, so a child of a
    big parent would report the parent's size); elsewhere ru_maxrss."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> None:
    from station.cli import cli

    try:
        cli.main(args=sys.argv[1:], prog_name="station", standalone_mode=False)
    finally:
        print(f"PEAK_RSS_KIB {peak_rss_kib()}", file=sys.stderr)


if __name__ == "__main__":
    main()
