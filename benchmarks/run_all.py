"""Run every benchmark, keep the raw results, and put the summary in the README.

Each benchmark is its own script printing one JSON document; this runs them
one after another (never in parallel: they would time each other), saves
``benchmarks/results.json`` and rewrites the README's section between the
``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->`` markers.

    python benchmarks/run_all.py                 # as root on Linux: all of them
    python benchmarks/run_all.py --only sim_lifecycles linux_run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(os.path.dirname(HERE), "README.md")
RESULTS = os.path.join(HERE, "results.json")
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def _load(load: dict | None) -> str:
    """The 1-minute load average before a figure was taken and after it,
    marked busy when, *before*, the machine had more runnable work than
    cores.  The load after counts the benchmark's own work (ten runs at
    once make their own load of 3 on 2 cores): judged on it, a row would
    mark itself busy."""
    if not load:
        return "load not recorded"
    before, after = load["before"][0], load["after"][0]
    busy = " (busy machine)" if busy_before(load) else ""
    return f"load {before:.1f} before, {after:.1f} after{busy}"


def busy_before(load: dict) -> bool:
    """More runnable work than cores before the figure was taken."""
    return load["before"][0] > (os.cpu_count() or 1)


# name -> (script arguments, how to summarise its JSON as README table rows)
def _sim(r):
    return [
        (
            "simulated lifecycles per second (create, start `true`, wait, remove; `--network none`; "
            "in-process, one core)",
            f"{r['per_second']:.0f}/s"
            + (f" ({r['per_cpu_second']:.0f} per second of CPU time)" if "per_cpu_second" in r else ""),
            f"aim: ≥ 2,000/s; {_load(r.get('load_average'))}",
        )
    ]


def _cli(r):
    single, many = r["single"], r["parallel"]
    m = {k: v["median"] * 1000 for k, v in single["seconds"].items()}
    b = r["breakdown_ms"]
    spread = single["seconds"]["stepbox_run"]
    return [
        (
            "`stepbox --version` vs a bare interpreter (`python -c pass`)",
            f"{m['version']:.0f} ms vs {m['interpreter']:.0f} ms = **{r['version_vs_interpreter']}x**",
            f"target ≤ 1.5x; {_load(single['load_average'])}",
        ),
        (
            "`stepbox run --rm --network none busybox true` (CLI) vs `docker run --rm` (dockerd), interleaved",
            f"{m['stepbox_run']:.0f} ms (min–max {spread['min'] * 1000:.0f}–{spread['max'] * 1000:.0f}) vs "
            f"{m['docker_run']:.0f} ms = **{r['cli_vs_docker']}x**",
            f"interpreter {b['interpreter']:.0f} ms, imports {b['imports']:.0f} ms, requests and client "
            f"{b['requests_and_client_work']:.0f} ms, the daemon's steps {b['daemon_run_steps_in_process']:.0f} ms; "
            f"target ≤ 0.6x; {_load(single['load_average'])}",
        ),
        (
            f"{many['count']} `run --rm` at once: stepbox CLI and daemon vs docker and dockerd (wall time)",
            f"{many['seconds']['stepbox_run']['median']:.2f} s vs {many['seconds']['docker_run']['median']:.2f} s = "
            f"**{many['stepbox_vs_docker']}x**",
            f"target ≤ 0.4x; {_overlap(many.get('in_process_overlap'))}{_load(many['load_average'])}",
        ),
    ]


def _overlap(overlap: dict | None) -> str:
    """How many of the parallel runs were starting at the same moment (no lock
    held across starts), from cli_run's in-process trace of their steps."""
    if not overlap:
        return ""
    return (
        f"in the daemon's engine up to {overlap['starts_in_flight_at_most']} of {overlap['count']} "
        "were inside their start phase at once; "
    )


def _linux(r):
    rows = (
        [
            (
                "`stepbox run --rm --network none busybox true` (CLI) vs `docker run --rm` (dockerd, no bridge), "
                "one after the other",
                f"{r['stepbox_cli_s'] * 1000:.0f} ms vs {r['docker_s'] * 1000:.0f} ms = **{r['cli_vs_docker']}x**",
                "target ≤ 0.5x",
            )
        ]
        if "docker_s" in r
        else []
    )
    rows.append(
        (
            "in-process engine vs `runc run` (same busybox bundle)",
            f"{r['stepbox_inprocess_s'] * 1000:.1f} ms vs {r['runc_s'] * 1000:.1f} ms = **{r['inprocess_vs_runc']}x**",
            "target ≤ 2x",
        )
    )
    return rows


def _engine(r):
    m = r["median_seconds"]
    rss = r["idle_rss_kib"]
    return [
        (
            "`docker run --rm busybox true` through the stepbox daemon vs dockerd",
            f"{m['stepbox'] * 1000:.0f} ms vs {m['dockerd'] * 1000:.0f} ms = **{r['run_time_ratio_stepbox_over_dockerd']}x**",
            f"backend {r['stepbox_backend']}",
        ),
        (
            "idle daemon memory (RSS, daemon and its children)",
            f"{rss['stepbox'] / 1024:.1f} MiB vs {rss['dockerd'] / 1024:.1f} MiB = "
            f"**{r['idle_rss_ratio_stepbox_over_dockerd']}x**",
            "",
        ),
    ]


def _build(r):
    t = r["seconds"]
    rows = [
        (
            "cold build of a 10-step Dockerfile: stepbox vs Docker's classic builder",
            f"{t['stepbox_cold']:.2f} s vs {t['docker_cold']:.2f} s = **{r['ratio_cold_stepbox_over_docker']}x**",
            f"backend {r['backend']}",
        ),
        (
            "fully cached rebuild of the same (CLI call)",
            f"{t['stepbox_cached']:.2f} s vs {t['docker_cached']:.2f} s = "
            f"**{r['ratio_cached_stepbox_over_docker']}x**",
            f"target ≤ 1.0x; {_load(r['load_average'])}" if "load_average" in r else "",
        ),
    ]
    if "stepbox_cached_in_process" in t:
        rows.append(
            (
                "fully cached rebuild, stepbox's builder in-process (no interpreter start-up)",
                f"{t['stepbox_cached_in_process']:.3f} s",
                "",
            )
        )
    return rows


def _registry(r):
    ratio = r["ratio_stepbox_over_cncf"]
    s, c = r["stepbox_registry"], r["cncf_registry"]
    change = s["one_layer_change"]
    return [
        (
            f"push a {r['image']['uncompressed_bytes'] // 1_000_000} MB, {r['image']['layers']}-layer image: "
            "stepbox registry vs CNCF registry",
            f"{s['push_seconds']:.2f} s vs {c['push_seconds']:.2f} s = **{ratio['push']}x**",
            "",
        ),
        (
            "pull the same",
            f"{s['pull_seconds']:.2f} s vs {c['pull_seconds']:.2f} s = **{ratio['pull']}x**",
            "",
        ),
        (
            "push again after changing one layer (1 MB)",
            f"{change['bytes_sent_client_count']:,} bytes sent, {change['blobs_uploaded']} blob(s) uploaded, "
            f"{change['blobs_skipped']} skipped",
            "only the changed layer travels",
        ),
    ]


def _oci(r):
    rows = []
    for key, what in (
        ("bundle", "`stepbox-runc` vs `runc`: create, start, wait, delete of a busybox bundle (`true`)"),
        ("ctr_run", "`ctr run --rm --runc-binary` stepbox-runc vs runc (one containerd)"),
        ("docker_run", "`docker run --rm --runtime stepbox` vs `--runtime runc` (one dockerd)"),
    ):
        if key in r:
            m = r[key]
            rows.append(
                (
                    what,
                    f"{m['stepbox']['median_s'] * 1000:.0f} ms vs {m['runc']['median_s'] * 1000:.0f} ms = **{m['ratio']}x**",
                    "interleaved, medians",
                )
            )
    return rows


def _commit(r):
    return [
        (
            f"commit one changed file: {r['big_files']:,}-file image vs {r['small_files']}-file image",
            f"{r['big_seconds'] * 1000:.1f} ms vs {r['small_seconds'] * 1000:.1f} ms = **{r['ratio']}x**",
            f"target ≤ 1.5x ({r['backend']})",
        )
    ]


def _service(r: dict) -> list[tuple[str, str, str]]:
    lists, runs, memory = r["list_requests_per_second"], r["runs_per_second"], r["load_memory"]
    ratio = r["list_ratio_stepbox_over_dockerd"]
    return [
        (
            f"`GET /containers/json` ({r['containers_listed']} containers), requests/s, 1 client and 8 clients",
            f"{lists['stepbox x1']['median']:.0f} vs {lists['dockerd x1']['median']:.0f} = **{ratio['x1']}x**; "
            f"{lists['stepbox x8']['median']:.0f} vs {lists['dockerd x8']['median']:.0f} = **{ratio['x8']}x**",
            f"keep-alive, medians of {r['rounds']} interleaved rounds",
        ),
        (
            f"concurrent `docker run --rm busybox true`, {r['concurrent_runs']['concurrency']} at a time, runs/s",
            f"{runs['stepbox']['median']:.2f} vs {runs['dockerd']['median']:.2f} = "
            f"**{r['runs_ratio_stepbox_over_dockerd']}x**",
            f"backend {r['stepbox_backend']}",
        ),
        (
            f"peak daemon memory growth while loading a {r['load_image_mib']} MiB image",
            f"{memory['stepbox']['growth_kib'] / 1024:.1f} MiB vs {memory['dockerd']['growth_kib'] / 1024:.1f} MiB "
            "(dockerd + containerd)",
            "bounded, not proportional to the image",
        ),
    ]


def _build_context(r: dict) -> list[tuple[str, str, str]]:
    ours, docker = r["stepbox"], r.get("docker")

    def growth(side: dict) -> str:
        return " / ".join(f"{side[k]['peak_growth_mib']:.1f}" for k in ("copy", "add", "from"))

    theirs = f" vs {growth(docker)} MiB (dockerd)" if isinstance(docker, dict) else ""
    return [
        (
            f"peak daemon memory growth building from a {r['size_mib']} MiB context: "
            "`COPY` / `ADD` of an archive / `COPY --from` a stage",
            f"{growth(ours)} MiB{theirs}",
            f"bounded, not proportional to the context; backend {r['backend']}; {_load(r.get('load_average'))}",
        )
    ]


BENCHMARKS: dict[str, tuple[list[str], Callable[[dict], list[tuple[str, str, str]]]]] = {
    "sim_lifecycles": ([], _sim),
    "cli_run": ([], _cli),
    "linux_run": ([], _linux),
    "oci_runtime": ([], _oci),
    "engine_run": ([], _engine),
    "build_cache": ([], _build),
    "registry_push_pull": ([], _registry),
    "commit_cost": ([], _commit),
    "engine_service": ([], _service),
    "build_context_memory": ([], _build_context),
}


def settle(most_seconds: float = 120.0) -> None:
    """Wait, up to ``most_seconds``, for the 1-minute load average to fall to
    the number of cores or below: the benchmark before (ten runs at once, a
    build) leaves a load that decays over a minute or so, and the next row
    would be taken -- and marked -- as if another program were busy."""
    cores, waited = os.cpu_count() or 1, 0.0
    while os.getloadavg()[0] > cores and waited < most_seconds:
        time.sleep(5)
        waited += 5
    if waited:
        print(f"  (waited {waited:.0f} s for the load to settle: {os.getloadavg()[0]:.1f})", file=sys.stderr)


def run(name: str) -> dict:
    args, _ = BENCHMARKS[name]
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    text = proc.stdout
    return json.loads(text[text.index("{") :])  # the script's one JSON document


def table(results: dict) -> str:
    rows = []
    for name, (_, summarise) in BENCHMARKS.items():
        if name in results:
            rows += summarise(results[name])
    meta = results["_machine"]
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (`python benchmarks/run_all.py`; "
        f"raw figures in `benchmarks/results.json`). {meta.get('remarks', '')}"
        "Ratios are stepbox ÷ the real thing, in the same run; a row's load is the 1-minute load "
        "average before it was taken and after (other programs' work slows the two sides unequally); "
        "a row is marked busy when the load *before* it exceeded the cores -- the load after also "
        "counts the benchmark's own work.",
        "",
        "| what | result | note |",
        "|---|---|---|",
    ]
    lines += [f"| {what} | {result} | {note} |" for what, result, note in rows]
    return "\n".join(lines)


def update_readme(text: str) -> None:
    with open(README) as f:
        readme = f.read()
    if START not in readme or END not in readme:
        raise SystemExit(f"README.md has no {START} ... {END} section")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(README, "w") as f:
        f.write(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(BENCHMARKS))
    args = parser.parse_args()
    results = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            results = json.load(f)
    for name in args.only or BENCHMARKS:
        settle()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = run(name)
    remarks = results.get("_machine", {}).get("remarks")  # said by hand about older rows
    results["_machine"] = {
        **({"remarks": remarks} if remarks else {}),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    update_readme(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
