"""The benchmark scripts are scripts, not a package: they import each other by module name, as
they do when run from ``benchmarks/``."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
