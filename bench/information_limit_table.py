"""Markdown table of recovery r and contraction per parameter from `rlddm reference` folders.

Usage: python bench/information_limit_table.py REF_DIR [REF_DIR ...]

Each folder is one `rlddm reference --model M --design D --trials T --out REF_DIR` run;
the row names its model, design and trial count (from reference.json) and lists, per
parameter, recovery r / contraction over the converged data sets, and how many converged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def row(folder: Path) -> str:
    config = json.loads((folder / "reference.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    model = config.get("model", {}).get("name", "rlddm")
    design = config.get("design", {})
    design_name = design.get("name") or design.get("kind") or "reversal"
    cells = []
    for name, values in (metrics["parameters"] or {}).items():
        r = "-" if values["r"] is None else f"{values['r']:.2f}"
        cells.append(f"{name} {r} / {values['contraction']:.2f}")
    return (f"| {model} | {design_name} | {metrics['n_trials']} | {'; '.join(cells)} | "
            f"{metrics['n_converged']}/{metrics['n_datasets']} | "
            f"{metrics['seconds']['sampling']:.0f} s |")


def main(folders: list[str]) -> None:
    print("| model | design | trials | parameter r / contraction | converged | sampling |")
    print("|---|---|---|---|---|---|")
    for folder in folders:
        print(row(Path(folder)))


if __name__ == "__main__":
    main(sys.argv[1:])
