"""Run every benchmark in bench/ in turn: each module that defines `main()`."""

import importlib
import pkgutil
import sys
import time
from pathlib import Path

import bench


def benchmark_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
        if not info.name.startswith("_")
    )


def main(names: list[str] | None = None) -> int:
    failed = []
    for name in names or benchmark_modules():
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if not callable(run):
            continue  # a helper module (test photos, shared setup), not a benchmark
        print(f"\n== bench.{name} ==", flush=True)
        started = time.perf_counter()
        try:
            run()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"bench.{name} failed: {exc!r}", flush=True)
            failed.append(name)
        print(f"(bench.{name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
