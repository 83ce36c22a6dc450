"""CLI start-up: how long `opsweek --version` and `opsweek who` take as whole processes, and
their peak memory, against `python -c "import typer, rich, sqlalchemy"` (what any CLI on this
stack pays) measured in the same run, the commands taking turns. Target: each within 1.5x the
reference (median of the runs) and under 100 MiB.

    python benchmarks/startup.py [--runs N]

`opsweek who` reads a store filled by `opsweek demo` in a temporary data directory. Set
PYTHONPATH to another checkout's src to measure that code with the same interpreter."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE = [sys.executable, "-c", "import typer, rich, sqlalchemy"]
COMMANDS = {
    "opsweek --version": [sys.executable, "-m", "opsweek", "--version"],
    "opsweek who": [sys.executable, "-m", "opsweek", "who"],
}
TARGET_RATIO = 1.5
TARGET_MIB = 100


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one run of ``command``."""
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsweek-startup-") as home:
        config = Path(home) / "opsweek.toml"
        config.write_text("")
        env = {**os.environ, "OPSWEEK_DATA_DIR": home, "OPSWEEK_CONFIG": str(config)}
        subprocess.run(
            [sys.executable, "-m", "opsweek", "demo", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        everything = {"reference (import typer, rich, sqlalchemy)": REFERENCE, **COMMANDS}
        for command in everything.values():
            run_once(command, env)  # warm the page cache and .pyc files
        walls: dict[str, list[float]] = {name: [] for name in everything}
        peaks: dict[str, list[float]] = {name: [] for name in everything}
        for _ in range(args.runs):
            for name, command in everything.items():  # in turn: drift hits them alike
                wall, peak = run_once(command, env)
                walls[name].append(wall)
                peaks[name].append(peak)
    reference = statistics.median(walls[next(iter(everything))])
    print(f"CLI start-up, median of {args.runs} runs ({os.cpu_count()} cores)")
    ok = True
    for name in everything:
        wall = statistics.median(walls[name])
        peak = max(peaks[name])
        line = f"  {name:44} {wall * 1000:7.0f} ms  {peak:6.1f} MiB peak"
        if name in COMMANDS:
            ratio = wall / reference
            passed = ratio <= TARGET_RATIO and peak < TARGET_MIB
            ok &= passed
            line += f"  {ratio:4.2f}x the reference  {'OK' if passed else 'MISSED'}"
        print(line)
    print(f"target: each command within {TARGET_RATIO}x the reference and under {TARGET_MIB} MiB")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
