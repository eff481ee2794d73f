"""The apps bench.py runs in child processes (the N-flow app and the jsii profile), and the flows it
generates for them. Kept as source text: each child imports the library under test, not this script's."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path

FLOW_APP = '''\
"""bench.py's N-flow app: one production environment serving every flow in a folder."""
import json
import sys
import time
from pathlib import Path

t0 = time.perf_counter()
from langflow_cdk8s import (Database, Environment, EnvironmentProps, Flow, IngressOptions, LangflowRuntime,
                            LangflowRuntimeProps, Quota, SecretKey, Stage)
import langflow_cdk8s
if (Path(langflow_cdk8s.__file__).parent / "tooling").is_dir():
    from langflow_cdk8s.tooling.synth import synth
else:  # the plain-object baseline (BASELINE_TAG) had a flat package
    from langflow_cdk8s.synth import synth

folder, outdir, result = sys.argv[1:4]
marks = {"imported": time.perf_counter()}


def build(app):
    marks["build_start"] = time.perf_counter()
    env = Environment(app, "bench", EnvironmentProps(
        stage=Stage.PRODUCTION, namespace="langflow-bench",
        # Large enough for 500 flows at their autoscaling maximum: no quota warnings.
        quota=Quota(requests_cpu="100000", requests_memory="100000Gi", limits_cpu="100000",
                    limits_memory="100000Gi", pods=100000),
    ))
    # Like the reference production runtime, so every flow gets all its objects (Ingress included).
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(
        flows=Flow.from_folder(folder),
        database=Database.external_postgres(host="langflow-db.bench.internal",
                                            password=SecretKey(name="langflow-bench-db", key="password")),
        secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")},
        # `exposure` since the exposure seam; the baseline commit still calls it `ingress`.
        **{"exposure" if "exposure" in LangflowRuntimeProps.__dataclass_fields__ else "ingress":
           IngressOptions(host="flows.bench.example.com", tls_secret="langflow-bench-tls")},
    ))
    marks["build_end"] = time.perf_counter()
    return [env]


code = synth(build, outdir=outdir)
done = time.perf_counter()
with open(result, "w") as out:
    json.dump({"import": marks["imported"] - t0, "build": marks["build_end"] - marks["build_start"],
               "synth": done - marks["build_end"], "code": code}, out)
sys.exit(code)
'''

PROFILE_APP = '''\
"""bench.py's profile: where the build of an N-flow app spends its time, and how many jsii round-trips it makes."""
import cProfile
import json
import os
import pstats
import sys
import time
from collections import Counter

from jsii._kernel.providers import process as jsii_process
from langflow_cdk8s import (Database, Environment, EnvironmentProps, Flow, IngressOptions, LangflowRuntime,
                            LangflowRuntimeProps, Quota, SecretKey, Stage)
from langflow_cdk8s.tooling.synth import new_app

folder, outdir, result, constructs = sys.argv[1:5]
HZ = os.sysconf("SC_CLK_TCK")
flows = Flow.from_folder(folder)

requests = Counter()
in_send = [0.0, 0.0]  # whole round trip, of which waiting for Node's answer
original_send, original_next = jsii_process._NodeProcess.send, jsii_process._NodeProcess._next_message


def send(self, request, response_type):
    start = time.perf_counter()
    try:
        return original_send(self, request, response_type)
    finally:
        in_send[0] += time.perf_counter() - start
        requests[type(request).__name__.lstrip("_").removesuffix("Request")] += 1


def next_message(self):
    start = time.perf_counter()
    try:
        return original_next(self)
    finally:
        in_send[1] += time.perf_counter() - start


jsii_process._NodeProcess.send, jsii_process._NodeProcess._next_message = send, next_message


def node_cpu():
    """CPU seconds of the jsii Node processes (the kernel lib/program.js, and jsii's relay
    bin/jsii-runtime.js where it runs), from /proc."""
    parents, times = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(pid)] = int(fields[1])
        times[int(pid)] = (int(fields[11]) + int(fields[12])) / HZ
    total, stack = 0.0, [os.getpid()]
    while stack:
        pid = stack.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        total += sum(times[child] for child in children)
        stack.extend(children)
    return total


def build(app, name):
    env = Environment(app, name, EnvironmentProps(
        stage=Stage.PRODUCTION, namespace=f"langflow-{name}",
        quota=Quota(requests_cpu="100000", requests_memory="100000Gi", limits_cpu="100000",
                    limits_memory="100000Gi", pods=100000)))
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(
        flows=flows,
        database=Database.external_postgres(host="langflow-db.bench.internal",
                                            password=SecretKey(name="langflow-bench-db", key="password")),
        exposure=IngressOptions(host="flows.bench.example.com", tls_secret="langflow-bench-tls"),
        secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}))
    return env


# 1. Unprofiled: wall, CPU on each side, round trips.
app = new_app(os.path.join(outdir, "plain"))
requests.clear(); in_send[:] = [0.0, 0.0]
wall, cpu, node = time.perf_counter(), time.process_time(), node_cpu()
env = build(app, "plain")
built = {"wall": time.perf_counter() - wall, "python_cpu": time.process_time() - cpu, "node_cpu": node_cpu() - node,
         "send": in_send[0], "wait": in_send[1], "requests": dict(requests), "objects": len(env.objects)}
wall, cpu, node = time.perf_counter(), time.process_time(), node_cpu()
app.synth()
synth = {"wall": time.perf_counter() - wall, "python_cpu": time.process_time() - cpu, "node_cpu": node_cpu() - node}

# 2. The same build under cProfile: which Python functions, how many kernel calls.
app = new_app(os.path.join(outdir, "profiled"))
profile = cProfile.Profile()
start = time.perf_counter()
profile.enable()
build(app, "profiled")
profile.disable()
profiled_wall = time.perf_counter() - start
stats = pstats.Stats(profile).stats
kernel, typecheck, ours, total = Counter(), 0.0, 0.0, 0.0
kernel_time = 0.0
for (filename, _, function), (_, calls, own, cumulative, _) in stats.items():
    total += own
    path = filename.replace(os.sep, "/")
    if path.endswith("jsii/_kernel/__init__.py") and function in {
            "create", "invoke", "sinvoke", "get", "sget", "set", "sset", "delete", "complete"}:
        kernel[function] += calls
        kernel_time += cumulative
    elif path.endswith("jsii/_type_checking.py") and function == "check_type":
        typecheck += cumulative
    if path.startswith(constructs.replace(os.sep, "/")):
        ours += own
json.dump({"build": built, "synth": synth, "profiled": {
    "wall": profiled_wall, "total": total, "kernel_calls": dict(kernel), "kernel_time": kernel_time,
    "typecheck_time": typecheck, "ours": ours}}, open(result, "w"))
'''


def write_flows(folder: Path, count: int) -> None:
    """`count` small, valid Langflow exports (id, name, data with nodes and edges), deterministic."""
    folder.mkdir(parents=True)
    for i in range(count):
        flow_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://bench.langflow-cdk8s.invalid/flows/{i}"))
        nodes = [{"id": f"{kind}-{i:04d}", "type": "genericNode", "position": {"x": 400 * n, "y": 0},
                  "data": {"id": f"{kind}-{i:04d}", "type": kind, "node": {"template": {}}}}
                 for n, kind in enumerate(("ChatInput", "Prompt", "ChatOutput"))]
        edges = [{"id": f"edge-{i:04d}-{n}", "source": a["id"], "target": b["id"]}
                 for n, (a, b) in enumerate(itertools.pairwise(nodes))]
        document = {"id": flow_id, "name": f"Bench Flow {i:04d}", "description": "Generated by scripts/bench.py",
                    "data": {"nodes": nodes, "edges": edges}}
        (folder / f"bench-flow-{i:04d}.json").write_text(json.dumps(document, indent=1))


