"""Benchmark sharded ``analyze``: engines, flat memory, report size.

Targets (issue 15), attention-only analysis (``--analyses alignment``) of the
toy En->Fr training pairs (``attnprobe toy enfr --splits train`` makes 40,000):

- 2 local workers at least 1.7x as fast as 1 worker (on 2 cores);
- Ray with 2 actors at least 1.5x as fast as 1 worker (its start-up reported apart);
- peak RSS of the driver and of each worker grows less than 10% from 1,000
  sentences to all of them;
- report.html of the large run at most 5 MB.

Every run is its own process (peak RSS: ``VmHWM`` of the driver, and of each
local worker read while it runs; Ray's actors are not measured), writes an
output folder like the command does, and the ratios compare runs of this one
invocation. The machine's load average
is printed with the figures: on a shared machine they move with it.

    python -m benchmarks scale                       # 40,000 pairs
    python -m benchmarks.bench_scale --sentences 4000 --no-ray
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "fixtures" / "models" / "enfr-bahdanau.pt"

#: one run, in a child process: prints a JSON line with its figures
CHILD = r"""
import json, os, sys, threading, time
from attnprobe.data import ParallelCorpus
from attnprobe.data.toy import generate_split
from attnprobe.pipeline.driver import analyze

model, n, engine, workers, out = sys.argv[1:6]
n, workers = int(n), int(workers)
ex = generate_split("enfr", "train")[:n]
corpus = ParallelCorpus([list(e.src) for e in ex], [list(e.tgt) for e in ex], name="enfr train")
gold = [e.alignment for e in ex]
del ex
def hwm(pid):  # peak RSS of a process so far, MB (VmHWM: reset by exec, unlike ru_maxrss)
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return 0.0

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []

workers_peak = {}
stop = threading.Event()

def sample():  # the workers' peaks, read until they exit
    while not stop.is_set():
        for c in children(os.getpid()):
            workers_peak[c] = max(workers_peak.get(c, 0.0), hwm(c))
        time.sleep(0.2)

threading.Thread(target=sample, daemon=True).start()
ray_start = None
if engine == "ray":
    import ray
    t = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - t
start = time.perf_counter()
analyze(model, corpus, gold, analyses=["alignment"], engine=engine, workers=workers,
        out=out, figures=False, progress=False)
seconds = time.perf_counter() - start
if engine == "ray":
    ray.shutdown()
stop.set()
# local workers are children of the driver; the multiprocessing helper (resource tracker)
# is small, so the largest child is a worker. Ray's actors are not our children: not measured.
print(json.dumps({
    "seconds": seconds,
    "ray_start": ray_start,
    "driver_rss_mb": hwm("self"),
    "worker_rss_mb": max(workers_peak.values(), default=0.0) if engine == "local" else None,
}))
"""


def run(n: int, engine: str, workers: int, work: Path) -> dict:
    out = work / f"{engine}-{workers}-{n}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(MODEL), str(n), engine, str(workers), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{engine} x{workers} on {n} failed:\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["report_mb"] = (out / "report.html").stat().st_size / 2**20
    figures["metrics"] = json.loads((out / "metrics.json").read_text())["alignment"]["scores"]
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=40_000, help="large run (max 40,000)")
    parser.add_argument("--small", type=int, default=1_000, help="small run (memory baseline)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated runs to make: small1, small2, local1, local2, ray (default: all)",
    )
    args = parser.parse_args(argv)
    only = None if args.only is None else set(args.only.split(","))
    n, small = args.sentences, args.small
    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = {}
        for short, name, engine, workers, size in (
            ("small1", "local x1, small", "local", 1, small),
            ("small2", "local x2, small", "local", 2, small),
            ("local1", "local x1", "local", 1, n),
            ("local2", "local x2", "local", 2, n),
            *([] if args.no_ray else [("ray", "ray x2", "ray", 2, n)]),
        ):
            if only is not None and short not in only:
                continue
            rows[name] = r = run(size, engine, workers, work)
            worker = f"{r['worker_rss_mb']:6.0f} MB" if r["worker_rss_mb"] else "     -   "
            print(
                f"{name:16} {size:6d} sentences  {r['seconds']:7.1f} s  "
                f"driver {r['driver_rss_mb']:6.0f} MB  worker {worker}  "
                f"report {r['report_mb']:5.2f} MB"
                + (f"  ray start-up {r['ray_start']:.1f} s" if r["ray_start"] else ""),
                flush=True,
            )
    big = [k for k in rows if "small" not in k]
    same = all(rows[k]["metrics"] == rows[big[0]]["metrics"] for k in big)
    print(f"same alignment scores from every engine: {same}")
    one, two = rows.get("local x1"), rows.get("local x2")
    if one and two:
        print(f"2 local workers vs 1: {one['seconds'] / two['seconds']:.2f}x  (target >= 1.7x)")
    if one and "ray x2" in rows:
        ray = rows["ray x2"]
        print(
            f"Ray 2 actors vs 1 worker: {one['seconds'] / ray['seconds']:.2f}x without start-up, "
            f"{one['seconds'] / (ray['seconds'] + ray['ray_start']):.2f}x with it "
            f"(start-up {ray['ray_start']:.1f} s; target >= 1.5x)"
        )
    base = rows.get("local x2, small")
    for who in ("driver", "worker") if base and two else ():
        grow = two[f"{who}_rss_mb"] / base[f"{who}_rss_mb"] - 1
        print(
            f"peak RSS of the {who}: {base[f'{who}_rss_mb']:.0f} MB at {small} -> "
            f"{two[f'{who}_rss_mb']:.0f} MB at {n} sentences: {grow:+.1%}  (target < +10%)"
        )
    if big:
        mb = rows[big[0]]["report_mb"]
        print(f"report.html at {n} sentences: {mb:.2f} MB  (target <= 5 MB)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
