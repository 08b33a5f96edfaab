"""A few-seconds check that every part of the benchmark runs (`python -m bench.smoke`).

Tiny sizes, results to a temporary file (bench/results.json is left alone); fails when a
part reports an error instead of numbers, or when the table cannot be printed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench import report, run


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="doorgifte-bench-smoke-") as tmp:
        out = Path(tmp) / "results.json"
        results = run.run("smoke", out)
        assert json.loads(out.read_text())["mode"] == "smoke"
    print(report.table(results))
    failed = [
        part for part in ("latency", "peers", "http", "batch", "memory", "replay") if "error" in results[part]
    ]
    failed += [f"batch {k}" for k, v in results["batch"].items() if isinstance(v, dict) and "error" in v]
    missing = [name for name, p in results["peers"]["engines"].items() if p["status"] != "ok"]
    print(
        f"\nsmoke: {'FAILED: ' + ', '.join(failed) if failed else 'ok'}"
        f"{'; peers missing: ' + ', '.join(missing) if missing else ''}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
