"""Benchmark sharded ``analyze``: engines, flat memory, report size.

Targets (issue 15), attention-only analysis (``--analyses alignment``) of the
toy En->Fr training pairs (``attnprobe toy enfr --splits train`` makes 40,000):

- 2 local workers at least 1.7x as fast as 1 worker (on 2 cores);
- Ray with 2 actors at least 1.5x as fast as 1 worker (its start-up reported apart);
- peak RSS of the driver and of each worker grows less than 10% from 1,000
  sentences to all of them;
- report.html of the large run at most 5 MB.

The pairs are written to files (source, target, Pharaoh gold) that each run
reads into a :class:`~attnprobe.data.packed.PackedCorpus` and a
:class:`~attnprobe.data.packed.PackedGold` (through a LinkTable), the compact forms
(``--objects``: Python lists and Alignments made in the run's process instead).
Every run is its own process (peak RSS: ``VmHWM`` of the driver, and of each
worker, a local process or a Ray actor, read while it runs), writes an output
folder like the command does, and the ratios compare runs of this one
invocation; each engine's worker growth is read against its own small run. The
machine's load average is printed with the figures: on a shared machine they
move with it.

    python -m benchmarks scale                       # 40,000 pairs
    python -m benchmarks.bench_scale --sentences 4000 --no-ray
"""

from __future__ import annotations

import argparse
import functools
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
from attnprobe.pipeline.driver import analyze

model, data, engine, workers, out = sys.argv[1:6]
workers = int(workers)
if data.endswith(".objects"):  # the corpus and gold as Python objects (lists, Alignments)
    from attnprobe.data.toy import generate_split
    ex = generate_split("enfr", "train")[: int(data.split(".")[0])]
    corpus = ParallelCorpus([list(e.src) for e in ex], [list(e.tgt) for e in ex], name="enfr train")
    gold = [e.alignment for e in ex]
    del ex
else:  # read from files into their compact forms, as the command does
    from attnprobe.alignment import read_link_table
    from attnprobe.data.packed import PackedCorpus, PackedGold
    corpus = PackedCorpus.read(data + ".src", data + ".tgt", name="enfr train")
    lengths = list(zip(corpus.lengths, corpus.tgt.lengths))
    gold = PackedGold.of(read_link_table(data + ".gold", lengths=lengths))
    del lengths
import ctypes, gc
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)  # the generator's freed memory back to the system:
# analyze must not find it free for reuse (that would hide its own memory on small runs)
def proc(pid, name):  # a line of /proc/PID/NAME, or "" once the process is gone
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""

def hwm(pid):  # peak RSS of a process so far, MB (VmHWM: reset by exec, unlike ru_maxrss)
    for x in proc(pid, "status").splitlines():
        if x.startswith("VmHWM"):
            return int(x.split()[1]) / 1024
    return 0.0

def rss(pid):
    for x in proc(pid, "status").splitlines():
        if x.startswith("VmRSS"):
            return int(x.split()[1]) / 1024
    return 0.0

TICK = os.sysconf("SC_CLK_TCK")

def cpu(pid):  # user + system CPU seconds of a process so far
    fields = proc(pid, "stat").rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / TICK if len(fields) > 12 else 0.0

def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for t in proc(p, "task/%d/children" % p).split():
            out.append(int(t))
            todo.append(int(t))
    return out

seen = {}  # pid -> [kind, peak RSS MB, CPU seconds, name]
stop = threading.Event()

def kind(cmd):  # what a descendant is: a worker (local process or Ray actor) or a helper
    if "_ShardActor" in cmd or "spawn_main" in cmd:
        return "worker"
    return "ray" if "ray" in cmd else "other"

sampler_cpu = [0.0]  # this sampler's own CPU seconds: counted apart from the driver's

def sample():  # every descendant's peak RSS and CPU time, read until they exit
    # VmHWM is a peak and the CPU time a running total, so a sample every half second
    # loses nothing but a process's last half second; a Ray worker's command line changes
    # once, when it becomes an actor: read again every few seconds until it is a worker's
    rounds = 0
    while not stop.is_set():
        for c in descendants(os.getpid()):
            new = c not in seen
            row = seen.setdefault(c, ["other", 0.0, 0.0, ""])
            if new or (row[0] != "worker" and rounds % 8 == 0):
                cmd = proc(c, "cmdline").replace("\0", " ")
                k = kind(cmd)
                if k != "other":
                    row[0], row[3] = k, cmd[:60]
            row[1] = max(row[1], hwm(c))
            row[2] = max(row[2], cpu(c))
        rounds += 1
        sampler_cpu[0] = time.thread_time()
        stop.wait(0.5)

threading.Thread(target=sample, daemon=True).start()
ray_start = None
if engine == "ray":
    import ray
    from attnprobe.pipeline.scale.ray_engine import init_kwargs
    t = time.perf_counter()
    ray.init(**init_kwargs(None, workers))
    ray_start = time.perf_counter() - t
held = rss("self")  # the caller's corpus and gold (and Ray's client), before analyze
read_peak = hwm("self")  # reading them included
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak from here on: not the toy generator's (it makes all 40,000 pairs)
start = time.perf_counter()
cpu0, sampled0 = os.times(), sampler_cpu[0]
analyze(model, corpus, gold, analyses=["alignment"], engine=engine, workers=workers,
        out=out, figures=False, progress=False)
seconds = time.perf_counter() - start
cpu1 = os.times()
sampled = sampler_cpu[0] - sampled0  # the sampler's CPU during analyze, to within a sample
time.sleep(0.3)  # a last sample of the workers
stop.set()
if engine == "ray":
    ray.shutdown()
# local workers are children of the driver (spawn_main), Ray's actors grandchildren
# (under the raylet); the ray helpers (gcs, raylet, agents) are counted apart.
rows = list(seen.values())
print(json.dumps({
    "seconds": seconds,
    "ray_start": ray_start,
    "driver_rss_mb": hwm("self"),
    "driver_held_mb": held,
    "read_peak_mb": read_peak,
    "driver_cpu": cpu1.user + cpu1.system - cpu0.user - cpu0.system - sampled,
    "sampler_cpu": sampled,
    "worker_rss_mb": max((r[1] for r in rows if r[0] == "worker"), default=None),
    "worker_cpu": sum(r[2] for r in rows if r[0] == "worker"),
    "helper_cpu": sum(r[2] for r in rows if r[0] != "worker"),
    "processes": sorted(([r[3], round(r[2], 1), round(r[1])] for r in rows), key=lambda r: -r[1]),
}))
"""


@functools.cache
def _toy_pairs() -> list:
    from attnprobe.data.toy import generate_split

    return generate_split("enfr", "train")


def write_corpus(n: int, work: Path) -> str:
    """The first ``n`` toy En->Fr training pairs as files: source, target, Pharaoh gold."""
    from attnprobe.alignment import write_pharaoh

    ex = _toy_pairs()[:n]
    stem = work / f"enfr-train-{n}"
    for side in ("src", "tgt"):
        lines = (" ".join(getattr(e, side)) + "\n" for e in ex)
        (stem.with_suffix(f".{side}")).write_text("".join(lines), encoding="utf-8")
    write_pharaoh(stem.with_suffix(".gold"), [e.alignment for e in ex])
    return str(stem)


def run(n: int, engine: str, workers: int, work: Path, data: str) -> dict:
    out = work / f"{engine}-{workers}-{n}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(MODEL), data, engine, str(workers), str(out)],
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
        "--verbose", action="store_true", help="CPU time and peak RSS of every worker and helper"
    )
    parser.add_argument(
        "--objects",
        action="store_true",
        help="hand analyze the corpus and gold as Python objects (lists, Alignments) made "
        "in the run's process, instead of reading files into their compact forms",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated runs to make: small1, small2, local1, local2, raysmall, ray "
        "(default: all)",
    )
    args = parser.parse_args(argv)
    only = None if args.only is None else set(args.only.split(","))
    n, small = args.sentences, args.small
    print(f"load average before: {os.getloadavg()}  cpus: {os.cpu_count()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows, data = {}, {}
        for short, name, engine, workers, size in (
            ("small1", "local x1, small", "local", 1, small),
            ("small2", "local x2, small", "local", 2, small),
            ("local1", "local x1", "local", 1, n),
            ("local2", "local x2", "local", 2, n),
            *([] if args.no_ray else [("raysmall", "ray x2, small", "ray", 2, small)]),
            *([] if args.no_ray else [("ray", "ray x2", "ray", 2, n)]),
        ):
            if only is not None and short not in only:
                continue
            if size not in data:
                data[size] = f"{size}.objects" if args.objects else write_corpus(size, work)
            rows[name] = r = run(size, engine, workers, work, data[size])
            worker = f"{r['worker_rss_mb']:6.0f} MB" if r["worker_rss_mb"] else "     -   "
            print(
                f"{name:16} {size:6d} sentences  {r['seconds']:7.1f} s  "
                f"driver {r['driver_rss_mb']:6.0f} MB (input {r['driver_held_mb']:4.0f} MB, "
                f"read {r['read_peak_mb']:4.0f} MB)  "
                f"worker {worker}  "
                f"report {r['report_mb']:5.2f} MB"
                + (f"  ray start-up {r['ray_start']:.1f} s" if r["ray_start"] else "")
                + f"\n{'':16} CPU s: driver {r['driver_cpu']:.1f}, workers {r['worker_cpu']:.1f}, "
                f"helpers {r['helper_cpu']:.1f} (the benchmark's sampler {r['sampler_cpu']:.1f})"
                + "".join(f"\n{'':18}{c:5.1f} s {m:5d} MB  {p}" for p, c, m in r["processes"])
                * args.verbose,
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
    if two and "ray x2" in rows:  # the same 2 processes' work: what Ray itself costs
        print(f"Ray 2 actors vs 2 local workers: {two['seconds'] / rows['ray x2']['seconds']:.2f}x")
    cpu = {k: r["driver_cpu"] + r["worker_cpu"] + r["helper_cpu"] for k, r in rows.items()}
    for k in (k for k in ("local x2", "ray x2") if one and k in rows):
        print(
            f"CPU seconds, all processes: {k} {cpu[k]:.1f} vs local x1 {cpu['local x1']:.1f}: "
            f"on 2 idle cores at most {2 * cpu['local x1'] / cpu[k]:.2f}x"
        )
    base = rows.get("local x2, small")
    if base and two:
        grow = two["driver_rss_mb"] / base["driver_rss_mb"] - 1
        print(
            f"peak RSS of the driver: {base['driver_rss_mb']:.0f} MB at {small} -> "
            f"{two['driver_rss_mb']:.0f} MB at {n} sentences: {grow:+.1%}  (target < +10%)"
        )
    for run_name in ("local x1", "local x2", "ray x2"):  # each engine against its own small run
        a, b = rows.get(f"{run_name}, small"), rows.get(run_name)
        if a and b and a["worker_rss_mb"] and b["worker_rss_mb"]:
            grow = b["worker_rss_mb"] / a["worker_rss_mb"] - 1
            print(
                f"peak RSS of a worker, {run_name}: {a['worker_rss_mb']:.0f} MB at {small} -> "
                f"{b['worker_rss_mb']:.0f} MB at {n} sentences: {grow:+.1%}  (target < +10%)"
            )
    if base and two:  # the driver's own: above the corpus and gold its caller holds
        a, b = (r["driver_rss_mb"] - r["driver_held_mb"] for r in (base, two))
        print(
            f"  the driver above its input: {a:.0f} MB -> {b:.0f} MB ({b / a - 1:+.1%}); "
            f"the input (corpus + gold objects): {base['driver_held_mb']:.0f} MB -> "
            f"{two['driver_held_mb']:.0f} MB"
        )
    if big:
        mb = rows[big[0]]["report_mb"]
        print(f"report.html at {n} sentences: {mb:.2f} MB  (target <= 5 MB)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
