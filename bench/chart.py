"""Latency and memory against the size of the knowledge base, as one PNG (issue 14).

``chart_data`` turns the results of bench/run.py (several runs: a backend and a size
each) into series; ``draw`` plots them with matplotlib: one panel per scenario, p95
as a solid line and p50 dashed for every server, both axes logarithmic, and a last
panel with each app worker's resident memory after the memory phase.

    python -m bench.chart bench/results/<date>.json docs/benchmarks/<name>.png
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

BACKENDS = {"postgresql": "PG", "sqlite": "SQLite"}


def size_label(size: float) -> str:
    """10000 -> 10k, 2000000 -> 2M."""
    for factor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if size >= factor:
            return f"{size / factor:g}{suffix}"
    return f"{size:g}"


def series_name(backend: str, target: str) -> str:
    return f"{target} ({BACKENDS.get(backend, backend)})"


def chart_data(results: dict) -> dict:
    """``latency``: scenario -> series -> [(size, p50, p95)], sorted by size, only the
    servers that answered; ``memory``: series -> [(size, largest VmRSS of a worker,
    largest VmHWM)] after the memory phase; ``labels``: scenario -> label."""
    latency: dict[str, dict[str, list]] = {}
    memory: dict[str, list] = {}
    labels: dict[str, str] = {}
    for run in results["runs"]:
        size = run["evidence"]
        for name, row in run["scenarios"].items():
            labels[name] = row.get("label", name)
            for target, result in row.items():
                if not isinstance(result, dict) or not result.get("available"):
                    continue
                c1 = result["c1"]
                points = latency.setdefault(name, {}).setdefault(
                    series_name(run["backend"], target), []
                )
                points.append((size, c1["p50_ms"], c1["p95_ms"]))
        for mode, phase in run.get("memory", {}).items():
            workers = phase.get("workers", [])
            if workers:
                memory.setdefault(series_name(run["backend"], mode), []).append(
                    (
                        size,
                        max(w.get("rss_mb", 0) for w in workers),
                        max(w.get("hwm_mb", 0) for w in workers),
                    )
                )
    for scenario in latency.values():
        for points in scenario.values():
            points.sort()
    for points in memory.values():
        points.sort()
    return {"latency": latency, "memory": memory, "labels": labels}


def draw(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    data = chart_data(results)
    sizes_run = sorted({run["evidence"] for run in results["runs"]})
    panels = [*data["latency"], "memory"] if data["memory"] else list(data["latency"])
    columns = 4
    rows = max(1, -(-len(panels) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows), squeeze=False)
    everything = sorted(
        {s for scenario in data["latency"].values() for s in scenario} | set(data["memory"])
    )
    colours = {name: plt.cm.tab10(i % 10) for i, name in enumerate(everything)}
    for ax, panel in zip(axes.flat, panels, strict=False):
        if panel == "memory":
            for name, points in data["memory"].items():
                sizes = [p[0] for p in points]
                ax.plot(sizes, [p[1] for p in points], "o-", color=colours[name], label=name)
                ax.plot(sizes, [p[2] for p in points], "^:", color=colours[name])
            ax.set_title("memory per app worker after the mixed requests", fontsize=10)
            ax.set_ylabel("MiB (VmRSS solid, VmHWM dotted)")
            ax.set_ylim(bottom=0)
        else:
            for name, points in data["latency"][panel].items():
                sizes = [p[0] for p in points]
                ax.plot(sizes, [p[2] for p in points], "o-", color=colours[name], label=name)
                ax.plot(sizes, [p[1] for p in points], "o--", color=colours[name], alpha=0.6)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            low, high = ax.get_ylim()
            # Under a decade there is no major tick to label: label the minor ones.
            ax.yaxis.set_minor_formatter(
                FuncFormatter(lambda v, _: f"{v:g}") if high < 10 * low else NullFormatter()
            )
            ax.set_title(textwrap.fill(data["labels"].get(panel, panel), 48), fontsize=10)
            ax.set_ylabel("ms (p95 solid, p50 dashed)")
        ax.set_xscale("log")
        ax.set_xticks(sizes_run, [size_label(x) for x in sizes_run])
        ax.xaxis.set_minor_formatter(NullFormatter())
        if len(sizes_run) == 1:
            ax.set_xlim(sizes_run[0] / 2, sizes_run[0] * 2)
        ax.set_xlabel("evidence items")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    handles = [
        plt.Line2D([], [], color=colours[name], marker="o", label=name) for name in everything
    ]
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=10)
    commit = results.get("commit", "")
    load = results.get("machine", {}).get("load_average_at_start", ())
    figure.suptitle(
        f"Latency at concurrency 1 and memory against size (commit {commit}, "
        f"{results.get('date', '')}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in load)})",
        fontsize=12,
    )
    figure.tight_layout(rect=(0, 0.05, 1, 0.97))
    figure.savefig(path, dpi=80)
    plt.close(figure)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
