"""Synthesis benchmark (GitHub issue 8): how far above the jsii start-up floor we are, and how
synthesis scales with the number of flows. A benchmark, not a test: it reports, it never fails
on a slow machine.

    make bench                                   # everything, writes docs/benchmarks.md
    .venv/bin/python scripts/bench.py --quick    # without the one `make test` run
    .venv/bin/python scripts/bench.py --constructs /tmp/copy/constructs --output /tmp/copy.md
                                                 # measure a modified copy of the library

What it runs, each in a fresh process tree (Python and jsii's Node kernel; plain jsii, as in the floor
and the baseline, adds its relay process):
  floor      python -c 'import cdk8s, cdk8s_plus_27'
  reference  python main.py, CDK8S_OUTDIR in a temporary folder (what `cdk8s synth` runs; with the
             docs and the swap of dist/ and docs/, in a copy of main.py and flows/ outside the checkout)
  cli        node_modules/.bin/cdk8s synth --no-check-upgrade --output <tmp> (information only)
  N flows    one PRODUCTION Environment + LangflowRuntime(flows=Flow.from_folder(<N generated flows>)),
             written with langflow_cdk8s.tooling.synth.synth, for N in 10, 100, 500
Every Python command runs with the flags of cdk8s.yaml's app (`python -O`; --no-optimize for none).
Runs are interleaved (round r runs every scenario once) after one discarded warm-up round, so a
burst of load from other processes spreads over all scenarios instead of skewing one. Each figure
is the median of the rounds, with minimum and maximum.

Memory: a thread samples the RSS of the process and all its descendants from /proc every 10 ms
and keeps the largest sum. `ru_maxrss` from wait4() is reported beside it as a cross-check, but
it is not the tree's peak: Linux folds a reaped child's peak into its parent's with max(), not
with a sum, so for Python + Node it is the peak of the single largest process (and it only
covers Node because jsii waits for Node when Python exits).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench_apps import FLOW_APP, PROFILE_APP, write_flows
from bench_report import BASELINE_TAG, DOC, ROOT, busy_cores, machine, note, report, write_doc

PAGE = os.sysconf("SC_PAGE_SIZE")



# ----------------------------------------------------------------------------------------------
# Measuring one process tree


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and every descendant it waited for
    tree_peak: int  # bytes: largest sum of RSS over the process tree, sampled
    process_peaks: dict[str, tuple[int, int]]  # command name -> (largest single process, bytes; count)
    maxrss: int  # bytes: ru_maxrss from wait4(), i.e. the largest single process
    extra: dict = field(default_factory=dict)


class TreeSampler(threading.Thread):
    """Samples the summed RSS of `root` and its descendants every `interval` seconds."""

    def __init__(self, root: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.done = threading.Event()
        self.parents: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.peak = 0
        self.process_peaks: dict[int, int] = defaultdict(int)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)

    def sample(self) -> None:
        try:
            live = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return
        for pid in live:
            if pid not in self.parents:  # each process's parent is read once; tree members are re-read below
                self._read(pid)
        children: dict[int, list[int]] = defaultdict(list)
        for pid in live:
            if pid in self.parents:
                children[self.parents[pid]].append(pid)
        total, stack = 0, [(self.root, None)]
        while stack:
            pid, parent = stack.pop()
            rss = self._read(pid)  # re-read: a parent cached before its pid was reused must not count
            if rss is None or (parent is not None and self.parents[pid] != parent):
                continue
            total += rss
            self.process_peaks[pid] = max(self.process_peaks[pid], rss)
            stack.extend((child, pid) for child in children.get(pid, ()))
        self.peak = max(self.peak, total)

    def _read(self, pid: int) -> int | None:
        """Caches the parent and command name of `pid`; returns its RSS in bytes (None if it is gone)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return None
        head, tail = stat.rsplit(b")", 1)
        fields = tail.split()
        self.parents[pid] = int(fields[1])
        self.names[pid] = head.split(b"(", 1)[1].decode(errors="replace")
        return int(fields[21]) * PAGE

    def per_name(self) -> dict[str, tuple[int, int]]:
        """Command name -> (largest single process, number of processes)."""
        peaks: dict[str, tuple[int, int]] = {}
        for pid, rss in self.process_peaks.items():
            name = self.names.get(pid, "?")
            name = "python" if name.startswith("python") else name
            largest, count = peaks.get(name, (0, 0))
            peaks[name] = (max(largest, rss), count + 1)
        return peaks


def app_flags() -> list[str]:
    """The interpreter flags cdk8s.yaml's `app` runs main.py with (-O): every scenario, the floor and
    the baseline included, runs with them, so each figure is what `cdk8s synth` costs."""
    app = re.search(r"^app:.*python((?: -\w+)*) main\.py", (ROOT / "cdk8s.yaml").read_text(), re.MULTILINE)
    if app is None:
        raise SystemExit("cdk8s.yaml: no `app: ... python [flags] main.py` line to take the interpreter flags from")
    return app.group(1).split()


def app_copy(root: Path) -> Path:
    """main.py with what it runs with, outside the checkout: `python main.py` and `cdk8s synth` replace
    the dist/ and docs/ next to main.py, and a benchmark must not rewrite the repository's."""
    root.mkdir()
    for name in ("main.py", "cdk8s.yaml"):
        shutil.copy2(ROOT / name, root / name)
    for folder in ("flows", "scripts/cdk8s-synthesis-status"):
        shutil.copytree(ROOT / folder, root / folder)
    for shared in (".venv", "node_modules"):
        (root / shared).symlink_to(ROOT / shared)
    return root


def run_tree(argv: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Run:
    """Runs argv to completion; raises with the end of its output when it fails."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        sampler.sample()
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.done.set()
        sampler.join()
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}:\n{tail}")
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, tree_peak=sampler.peak,
               process_peaks=sampler.per_name(), maxrss=usage.ru_maxrss * 1024)


# ----------------------------------------------------------------------------------------------
# Scenarios



@dataclass
class Scenario:
    key: str
    label: str
    argv: list[str]
    outdir: Path | None = None  # recreated empty before each run, its *.k8s.yaml counted after
    outdir_env: str | None = None  # environment variable that carries outdir
    result: Path | None = None  # JSON the child writes (phase timings)
    runs: list[Run] = field(default_factory=list)
    objects: int | None = None
    pythonpath: str | None = None  # the library to import, when not this checkout's (the baseline)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.python = sys.executable
        self.constructs = Path(args.constructs).resolve()
        self.env = dict(os.environ)
        self.env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
        # Measure this checkout's library (or --constructs), whatever the venv's editable install points
        # at; the repository root too, as for main.py (generated bindings under imports/).
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.constructs), str(ROOT),
                                                                os.environ.get("PYTHONPATH")]))
        self.env.pop("CDK8S_OUTDIR", None)
        self.app_root = app_copy(tmp / "app")
        self.python_flags = app_flags() if not args.no_optimize else []
        self.loads: list[float] = []
        self.baseline: Path | None = None

    def scenarios(self) -> list[Scenario]:
        py = [self.python, *self.python_flags]
        result = [
            Scenario("floor", "floor: `python -c 'import cdk8s, cdk8s_plus_27'`",
                     [*py, "-c", "import cdk8s, cdk8s_plus_27"]),
            Scenario("reference", "reference: `python main.py` (2 environments)", [*py, "main.py"],
                     outdir=self.tmp / "out-reference", outdir_env="CDK8S_OUTDIR"),
        ]
        if not self.args.no_cli:
            result.append(Scenario("cli", "`cdk8s synth` end to end (information)",
                                   [str(ROOT / "node_modules/.bin/cdk8s"), "synth", "--no-check-upgrade",
                                    "--output", str(self.tmp / "out-cli")], outdir=self.tmp / "out-cli"))
        app = self.tmp / "flow_app.py"
        app.write_text(FLOW_APP)
        for count in self.args.flows:
            folder = self.tmp / f"flows-{count}"
            write_flows(folder, count)
            out = self.tmp / f"out-{count}"
            result.append(Scenario(f"flows-{count}", f"{count} flows", [*py, str(app), str(folder), str(out),
                                                                        str(self.tmp / f"result-{count}.json")],
                                   outdir=out, result=self.tmp / f"result-{count}.json"))
            if self.baseline is not None:
                out = self.tmp / f"out-baseline-{count}"
                result.append(Scenario(
                    f"baseline-{count}", f"{count} flows, plain-object baseline ({BASELINE_TAG[:7]})",
                    [*py, str(app), str(folder), str(out), str(self.tmp / f"result-baseline-{count}.json")],
                    outdir=out, result=self.tmp / f"result-baseline-{count}.json",
                    pythonpath=os.pathsep.join([str(self.baseline / "constructs"), str(self.baseline)])))
        return result

    def add_baseline(self) -> None:
        """Checks the baseline tag out into a temporary worktree (removed with the temporary folder)."""
        self.baseline = self.tmp / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(self.baseline), BASELINE_TAG],
                       check=True)

    def compile_bytecode(self) -> None:
        """Bytecode for both optimization levels, for the library measured and the baseline alike, as
        `make synth` keeps it (this environment may set PYTHONDONTWRITEBYTECODE)."""
        folders = [self.constructs, ROOT / "imports"]
        if self.baseline is not None:
            folders += [self.baseline / "constructs", self.baseline / "imports"]
        subprocess.run([self.python, "-m", "compileall", "-q", "-o", "0", "-o", "1", *map(str, folders)],
                       check=True, stdout=subprocess.DEVNULL)

    def remove_baseline(self) -> None:
        if self.baseline is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(self.baseline)], check=False)

    def once(self, scenario: Scenario) -> Run:
        env = dict(self.env)
        if scenario.pythonpath is not None:
            env["PYTHONPATH"] = scenario.pythonpath
        if scenario.outdir is not None:
            shutil.rmtree(scenario.outdir, ignore_errors=True)
            if scenario.outdir_env:
                scenario.outdir.mkdir()
                env[scenario.outdir_env] = str(scenario.outdir)
        run = run_tree(scenario.argv, env=env, cwd=self.app_root, log=self.tmp / f"{scenario.key}.log")
        if scenario.outdir is not None:
            objects = sum(1 for _ in scenario.outdir.rglob("*.k8s.yaml"))
            if scenario.objects not in (None, objects):
                raise RuntimeError(f"{scenario.key}: {objects} objects this run, {scenario.objects} before")
            scenario.objects = objects
        if scenario.result is not None:
            run.extra = json.loads(scenario.result.read_text())
        return run

    def measure(self) -> list[Scenario]:
        scenarios = self.scenarios()
        note(f"warm-up round (discarded), then {self.args.runs} interleaved rounds of {len(scenarios)} scenarios")
        for scenario in scenarios:
            self.once(scenario)
        for round_ in range(1, self.args.runs + 1):
            self.loads.append(os.getloadavg()[0])
            for scenario in scenarios:
                run = self.once(scenario)
                scenario.runs.append(run)
                note(f"round {round_}/{self.args.runs} {scenario.key}: {run.wall:.2f} s, "
                     f"{run.tree_peak / 2**20:.0f} MB tree peak")
        self.loads.append(os.getloadavg()[0])
        return scenarios

    def profile(self, count: int) -> dict:
        folder = self.tmp / f"flows-{count}"
        if not folder.exists():
            write_flows(folder, count)
        app = self.tmp / "profile_app.py"
        app.write_text(PROFILE_APP)
        out = self.tmp / "out-profile"
        result = self.tmp / "profile.json"
        run_tree([self.python, *self.python_flags, str(app), str(folder), str(out), str(result), str(self.constructs)],
                 env=self.env, cwd=ROOT, log=self.tmp / "profile.log")
        return json.loads(result.read_text())

    def make_test(self) -> dict:
        log = self.tmp / "make-test.log"
        env = {k: v for k, v in os.environ.items() if k != "CDK8S_OUTDIR"}
        with open(log, "wb") as out:
            start = time.perf_counter()
            code = subprocess.call(["make", "test"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - start
        text = log.read_text(errors="replace")
        summaries = re.findall(r"^=+ (.+?) in [\d.]+s.*=+$", text, re.M)
        return {"wall": wall, "code": code, "summary": summaries[-1] if summaries else "no pytest summary"}


# ----------------------------------------------------------------------------------------------
# Report

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the `make test` run")
    parser.add_argument("--with-tests", action="store_true", help="time one `make test` run (the default)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per scenario (default 5, at least 5 "
                        "for published figures)")
    parser.add_argument("--flows", default="10,100,500", help="flow counts (default 10,100,500; the targets need 100 and 500)")
    parser.add_argument("--no-cli", action="store_true", help="skip the `cdk8s synth` end-to-end runs")
    parser.add_argument("--no-profile", action="store_true", help="skip the jsii profile")
    parser.add_argument("--no-baseline", action="store_true", help=f"skip the plain-object baseline ({BASELINE_TAG[:7]})")
    parser.add_argument("--profile-flows", type=int, default=100, help="flows in the profiled build (default 100)")
    parser.add_argument("--constructs", default=str(ROOT / "constructs"),
                        help="folder holding the langflow_cdk8s package to measure (default: this checkout's)")
    parser.add_argument("--no-optimize", action="store_true",
                        help="run the Python apps without the flags cdk8s.yaml's app uses (-O)")
    parser.add_argument("--output", default=str(DOC), help=f"Markdown file to update (default {DOC.relative_to(ROOT)})")
    parser.add_argument("--no-write", action="store_true", help="print the tables, write nothing")
    args = parser.parse_args()
    if args.quick and args.with_tests:
        parser.error("--quick skips the tests that --with-tests asks for")
    args.flows = sorted({int(n) for n in args.flows.split(",")})
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.runs < 5:
        note(f"only {args.runs} runs per scenario: fine for a try, not for docs/benchmarks.md")
    if not (Path(args.constructs) / "langflow_cdk8s").is_dir():
        parser.error(f"{args.constructs} holds no langflow_cdk8s package")

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    busy0, when0 = busy_cores()
    children0 = os.times()
    tmp = Path(tempfile.mkdtemp(prefix="langflow-bench-"))
    try:
        bench = Bench(args, tmp)
        if not args.no_baseline:
            bench.add_baseline()
        bench.compile_bytecode()
        scenarios = bench.measure()
        busy1, when1 = busy_cores()
        children1 = os.times()
        ours = (children1.children_user + children1.children_system - children0.children_user - children0.children_system
                + children1.user + children1.system - children0.user - children0.system)
        background = max(0.0, (busy1 - busy0 - ours) / (when1 - when0))
        prof = None if args.no_profile else bench.profile(args.profile_flows)
        tests = None
        if not args.quick:
            note("make test (once)")
            tests = bench.make_test()
        generated, missed = report(bench, scenarios, tests, prof, machine(), started, time.perf_counter() - t0, background)
    finally:
        if "bench" in locals():
            bench.remove_baseline()
        shutil.rmtree(tmp, ignore_errors=True)
    print(generated)
    if missed:
        note(f"targets missed: {'; '.join(missed)} (see 'What would fix it' in {DOC.relative_to(ROOT)})")
    if not args.no_write:
        write_doc(Path(args.output), generated)
        note(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
