"""Exact fit of HDDM's RL tutorial data (28 participants, 5,280 trials): time, convergence, profile.

Get the data from the public hddm repository (hddm-devs/hddm, hddm/examples/rlddm_data.csv)
and pass its path; nothing is downloaded here.

    python bench/hddm_real_fit.py DATA.csv [--fix p_outlier=0.05] [--no-retry] [--jobs N]
        [--save FILE.npz] [--profile ITER]

Prints wall and CPU seconds of `rlddm.exact_fit.fit_exact` (the sampling and the pointwise
log-likelihood, without the output folder), the participants that failed the checks at the
first length (with the reason, per-chain means and acceptance), and, with --profile, where
the time of ITER iterations goes in one process.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

import numpy as np

from rlddm.data import read_trials
from rlddm.exact_fit import fit_exact
from rlddm.model import get_model, parse_fixed


def profile_pass(trials, spec, n_iterations: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    fit_exact(trials, spec, n_jobs=1, n_warmup=n_iterations, n_draws=8, thin=1,
              chunk_trials=10**9, seed=0, retry=False)
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
             "priors (log density, maps)": share("priors.py:log_prob_unbounded",
                                                 "priors.py:_unbounded_terms"),
             "priors from_unbounded (likelihood's theta)": share("priors.py:from_unbounded"),
             "proposal (_metropolis minus log_post)": 0.0,
             "pointwise log-likelihood after sampling": share("likelihood.py:loglik_trials")}
    print(f"profile of {n_iterations} warm-up iterations + 8 draws, one process: {total:.1f} s")
    for label, seconds in parts.items():
        if seconds:
            print(f"  {label:<55} {seconds:6.2f} s  {100 * seconds / total:5.1f}%")
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--fix", action="append", default=[])
    parser.add_argument("--no-retry", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--save")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fixed = parse_fixed(args.fix) if args.fix else None
    spec = get_model("rlddm", fixed=fixed)
    trials = read_trials(args.data, layout="hddm")
    print(f"{len(trials)} participants, {int(trials.n_trials.sum())} trials, model "
          f"{spec.label()}; load {os.getloadavg()[0]:.2f}")
    if args.profile:
        profile_pass(trials, spec, args.profile)
        return
    start, cpu = time.perf_counter(), time.process_time()
    fit = fit_exact(trials, spec, n_jobs=args.jobs, retry=not args.no_retry,
                    seed=np.random.default_rng(args.seed))
    wall = time.perf_counter() - start
    batch = fit.batch
    workers = sum(c["sampling"] + c["pointwise"] for c in fit.settings["cpu_seconds"])
    print(f"wall {wall:.1f} s; worker CPU {workers:.1f} s "
          f"(sampling {sum(c['sampling'] for c in fit.settings['cpu_seconds']):.1f}); "
          f"{fit.settings['n_chunks']} chunks; load {os.getloadavg()[0]:.2f}")
    first = batch.attempts == 1
    print(f"converged {int(batch.converged.sum())}/{len(batch)}; at the first length "
          f"{int((first & batch.converged).sum())}, rerun {int((~first).sum())}")
    names = batch.names
    for k, p in enumerate(trials):
        if batch.reasons[k] or batch.attempts[k] > 1:
            means = batch.draws[k].mean(axis=1)
            print(f"participant {p.participant} (n={p.n_trials}, min rt {p.rt.min():.3f}, "
                  f"attempts {batch.attempts[k]}): {batch.reasons[k] or 'ok'}")
            print("   accept", np.round(batch.accept_rate[k], 3))
            for c in range(means.shape[0]):
                print("   chain", c, " ".join(f"{n}={m:.3f}" for n, m in zip(names, means[c])))
    if args.save:
        np.savez(args.save, draws=batch.draws, rhat=batch.rhat, ess_bulk=batch.ess_bulk,
                 ess_tail=batch.ess_tail, accept=batch.accept_rate, attempts=batch.attempts,
                 converged=batch.converged,
                 participants=np.array([str(p.participant) for p in trials]))


if __name__ == "__main__":
    main()
