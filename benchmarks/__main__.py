"""Run the benchmarks: ``python -m benchmarks [NAME ...]`` (``make bench`` runs them all).

Each ``benchmarks/bench_<name>.py`` measures a speed or memory target as a
ratio against a baseline run in the same process, and prints its figures.
Benchmarks are never run as timed tests: shared machines are too noisy.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the benchmarks named in ``argv`` (all without names); ``-h`` lists them.

    Examples
    --------
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: python -m benchmarks [-h] [NAME ...]
    ...
    0
    """
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    if {"-h", "--help"} & set(argv):
        print("usage: python -m benchmarks [-h] [NAME ...]\n")
        print(__doc__.strip() + "\n")
        print("Each benchmark takes options of its own: python -m benchmarks.bench_NAME --help")
        print("\nbenchmarks:")
        for name in available:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            first = (module.__doc__ or "").strip().splitlines()[0]
            print(f"  {name:<12} {first}")
        return 0
    unknown = sorted(set(argv) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    for name in argv or available:
        print(f"== {name}", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
