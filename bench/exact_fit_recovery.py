"""Recovery by `rlddm fit --method exact` on simulated selection-task participants, against
`rlddm reference` on the same data sets (the baseline: the same sampler run as the
information-limit reference, with its own settings).

For ``--n`` participants of ``--trials`` trials (truths from rlddm's default priors,
selection task: pairs A-B, C-D, E-F interleaved) it prints, per parameter, the
correlation of posterior means with the truths and the coverage of central 95%
intervals for both, and the wall times.

    python bench/exact_fit_recovery.py [--n 100] [--trials 120] [--jobs N] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pandas as pd

from rlddm.data import read_trials
from rlddm.designs import get_design
from rlddm.exact_fit import fit_exact
from rlddm.model import get_model
from rlddm.posterior import recovery_metrics, reference_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--trials", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="write truths and both posteriors' draws to this .npz")
    args = parser.parse_args()
    design = get_design("selection")
    spec = get_model("rlddm")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        reference_run(folder, n=args.n, n_trials=args.trials, seed=args.seed, design=design,
                      progress=None)
        reference_seconds = time.perf_counter() - start
        saved = np.load(os.path.join(folder, "reference.npz"))
        truth, choice = saved["theta"], saved["choice"]
        names = np.array(design.option_names, dtype=object)
        frame = pd.DataFrame({
            "participant": np.repeat(np.arange(1, args.n + 1), args.trials),
            "trial": np.tile(np.arange(1, args.trials + 1), args.n),
            "rt": saved["rt"].ravel(), "choice": choice.ravel(),
            "reward": np.where(choice == -1, 0.0, saved["reward"]).ravel(),
            "option0": names[saved["options"][..., 0]].ravel(),
            "option1": names[saved["options"][..., 1]].ravel()})
        reference = {"draws": saved["draws"], "converged": saved["converged"]}
    trials = read_trials(frame)
    start = time.perf_counter()
    fitted = fit_exact(trials, spec, q0=design.q0, seed=args.seed + 1, n_jobs=args.jobs)
    fit_seconds = time.perf_counter() - start
    if args.save:
        np.savez(args.save, truth=truth, fit=fitted.batch.draws, reference=reference["draws"],
                 fit_converged=fitted.batch.converged, reference_converged=reference["converged"])
    rows = []
    results = {"fit": (fitted.batch.draws, fitted.batch.converged),
               "reference": (reference["draws"], reference["converged"])}
    metrics = {label: recovery_metrics(truth, draws, model=spec)["parameters"]
               for label, (draws, _) in results.items()}
    both = fitted.batch.converged & reference["converged"]
    converged = {label: recovery_metrics(truth[both], draws[both], model=spec)["parameters"]
                 for label, (draws, _) in results.items()}
    for name in spec.names:
        fit_m, ref_m = metrics["fit"][name], metrics["reference"][name]
        rows.append({"parameter": name, "r fit": fit_m["r"], "r reference": ref_m["r"],
                     "|r difference|": abs(fit_m["r"] - ref_m["r"]),
                     "95% coverage fit": fit_m["coverage"]["95"],
                     "95% coverage reference": ref_m["coverage"]["95"],
                     "r fit (both converged)": converged["fit"][name]["r"],
                     "r reference (both converged)": converged["reference"][name]["r"]})
    print(f"{args.n} selection-task participants x {args.trials} trials, model rlddm, truths "
          f"from its default priors")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    for label, (_, converged) in results.items():
        print(f"{label}: {int(np.sum(converged))}/{args.n} converged")
    print(f"wall: fit {fit_seconds:.0f} s (n_jobs = {args.jobs}, thin 2), reference "
          f"{reference_seconds:.0f} s (one process, thin 5, includes simulating)")


if __name__ == "__main__":
    main()
