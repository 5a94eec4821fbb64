"""Wall time of `rlddm fit --method exact` on a study shaped like HDDM's RL tutorial data.

28 simulated selection-task participants (three interleaved pairs) with HDDM's trial
counts (113-360, 5,280 trials), fitted with the default sampler settings, against the
same fit in one process (the baseline). Prints wall times, convergence, and a profile
of one sampler pass split into replay, Wiener series, priors and the rest.

    python bench/exact_fit_speed.py [--jobs N] [--skip-serial] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from rlddm.data import read_trials, simulate_participants
from rlddm.exact_fit import SAMPLER_DEFAULTS, fit_exact
from rlddm.fit import fit_csv

HDDM_COUNTS = [113, 119] + [120] * 11 + [179] + [180] * 5 + [238] + [240] * 3 + [274, 338, 359,
                                                                                    360, 360]


def study(seed: int = 1):
    """HDDM-shaped participants: drift 2-6, alpha 1.2-2, beta 0.4-0.6, ter 0.2-0.4, kappa 0.1-0.5."""
    rng = np.random.default_rng(seed)
    k = len(HDDM_COUNTS)
    theta = np.column_stack([rng.uniform(2, 6, k), rng.uniform(1.2, 2, k), rng.uniform(0.4, 0.6, k),
                             rng.uniform(0.2, 0.4, k), rng.uniform(0.1, 0.5, k)])
    return simulate_participants(k, HDDM_COUNTS, theta=theta, design="selection", seed=seed + 1)


def profile_pass(trials, n_iterations: int = 300) -> None:
    """Where a sampler iteration's time goes (one process, all participants in one chunk)."""
    profile = cProfile.Profile()
    profile.enable()
    fit_exact(trials, n_jobs=1, n_warmup=n_iterations, n_draws=8, thin=1, chunk_trials=10**9,
              seed=0)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    by_function = {f"{path}:{name}": values[3] for (path, _, name), values in stats.stats.items()}

    def share(*needles):
        return sum(t for key, t in by_function.items() if any(n in key for n in needles))

    parts = {"replay (compiled kernel, _replay)": share("likelihood.py:_replay"),
             "Wiener series (_log_decision)": share("likelihood.py:_log_decision"),
             "per-trial gather (_trial_logliks minus the two above)":
                 share("likelihood.py:_trial_logliks") - share("likelihood.py:_replay")
                 - share("likelihood.py:_log_decision"),
             "priors (log density, maps)": share("priors.py:log_prob_unbounded"),
             "pointwise log-likelihood after sampling": share("likelihood.py:loglik_trials")}
    print(f"profile of {n_iterations} warm-up iterations + draws, one process: {total:.1f} s")
    for label, seconds in parts.items():
        print(f"  {label:<55} {seconds:6.2f} s  {100 * seconds / total:5.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--skip-serial", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    trials, _ = study()
    print(f"{trials.participant.nunique()} participants, {len(trials)} trials; sampler "
          f"{dict(SAMPLER_DEFAULTS)}")
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "study.csv"
        trials.to_csv(csv, index=False)
        runs = [args.jobs] if args.skip_serial else [args.jobs, 1]
        for n_jobs in runs:
            start, cpu = time.perf_counter(), time.process_time()
            result = fit_csv(csv, out=Path(folder) / f"fit{n_jobs}", method="exact",
                             n_jobs=n_jobs, seed=0)
            wall = time.perf_counter() - start
            summary = result.summary()
            chunks = result.settings["cpu_seconds"]
            print(f"  CPU seconds per chunk (sampling + pointwise log-likelihood): "
                  + ", ".join(f"{c['sampling']:.1f} + {c['pointwise']:.1f}" for c in chunks)
                  + f"; this process {time.process_time() - cpu:.1f} (with n_jobs = 1 it "
                  "includes the chunks)")
            print(f"n_jobs = {n_jobs}: {wall:.1f} s wall (sampling, pointwise log-likelihood, "
                  f"checks and output); converged {int(result.converged.sum())}/"
                  f"{len(result.converged)}; max R-hat {summary['r_hat'].max():.4f}, min bulk "
                  f"ESS {summary['ess_bulk'].min():.0f}, min tail ESS "
                  f"{summary['ess_tail'].min():.0f}; reruns {int((summary['attempts'] > 1).sum() / len(result.spec.names))}")
    if args.profile:
        profile_pass(read_trials(trials))


if __name__ == "__main__":
    main()
