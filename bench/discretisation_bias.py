"""What the Euler walk does to exact-likelihood posteriors: bias of posterior means in SD units.

Usage: ``python bench/discretisation_bias.py REF_DIR [REF_DIR ...]`` with folders written by
``rlddm reference`` (for example one with ``method="exact"`` data and one with
``method="euler"`` data, via ``rlddm.posterior.reference_run``). For every converged data
set it takes ``(posterior mean - truth) / posterior SD`` per parameter; under a correct
likelihood these have mean about 0 and SD about 1, so a mean far from 0 is the bias the
simulator's discretisation puts into inference with the continuous-time likelihood.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from rlddm.parameters import PARAMETER_NAMES


def main() -> None:
    print("| data | n | " + " | ".join(f"{name} bias (SD)" for name in PARAMETER_NAMES) + " |")
    print("|---|---|" + "---|" * len(PARAMETER_NAMES))
    for folder in map(Path, sys.argv[1:]):
        data = np.load(folder / "reference.npz")
        info = json.loads((folder / "reference.json").read_text())
        keep = data["converged"]
        draws = data["draws"][keep].reshape(int(keep.sum()), -1, len(PARAMETER_NAMES))
        z = (draws.mean(axis=1) - data["theta"][keep]) / draws.std(axis=1, ddof=1)
        se = z.std(axis=0, ddof=1) / np.sqrt(z.shape[0])
        cells = " | ".join(f"{m:+.2f} ± {s:.2f}" for m, s in zip(z.mean(axis=0), se))
        label = info["method"] + (f", dt = {info['dt']:g}" if info["method"] == "euler" else "")
        print(f"| {label} ({folder.name}) | {z.shape[0]} | {cells} |")


if __name__ == "__main__":
    main()
