"""How far the Euler walk is from the continuous-time DDM: the README's table, regenerated.

Usage: ``python bench/euler_vs_exact.py [--n 20000] [--seed 0]``. For a few (v, a, w)
it compares P(upper) and the mean decision time of the exact model (from
``rlddm.likelihood``) with ``--n`` Euler walks at dt = 0.01 and draws of the exact
sampler; then it applies the probability integral transform of the exact model to
the RTs of whole 60-trial data sets simulated under the forum post's priors, per
method and dt, and reports the KS distance from uniform.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import integrate, stats

import rlddm
from rlddm.simulator import _sim
from rlddm._seeding import stream_key
from rlddm.likelihood import rt_pit, wfpt_logcdf, wfpt_logpdf
from rlddm.priors import Priors

ROWS = [(0.0, 1.0, 0.5), (1.0, 1.0, 0.5), (1.0, 0.3, 0.4), (2.0, 0.08, 0.3)]
METHOD_CODES = {"euler": _sim.METHOD_EULER, "exact": _sim.METHOD_EXACT}


def single_trials(v, a, w, n, seed, method, dt=0.01):
    decision_time, choice = np.empty(n), np.empty(n, dtype=np.int8)
    _sim.first_passage_batch(np.full(n, v), np.full(n, a), np.full(n, w), *stream_key(seed), 0,
                             decision_time, choice, METHOD_CODES[method], dt, 10**7)
    return decision_time, choice


def exact_mean_time(v, a, w):
    """E[T] over both boundaries, by quadrature of the exact densities."""
    total = 0.0
    for boundary in (0, 1):
        total += integrate.quad(lambda t: t * np.exp(wfpt_logpdf(t, boundary, v, a, w)),
                                0, np.inf, limit=200)[0]
    return total


def pit_ks(method, dt, n_data_sets, seed):
    """KS distance of the PIT of whole simulated data sets under the exact model."""
    max_steps = int(round(9.0 / dt))
    theta = Priors.default().sample(n_data_sets, seed=seed)
    outcomes = rlddm.ReversalDesign().sample(n_data_sets, seed=seed + 1)
    data = rlddm.simulate(theta, outcomes, dt=dt, max_steps=max_steps, seed=seed + 2,
                          method=method)
    u = rt_pit(theta, data.rt, data.choice, data.reward, dt=dt, max_steps=max_steps)
    return stats.kstest(u[np.isfinite(u)], "uniform")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="walks per row")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-sets", type=int, default=2_000)
    args = parser.parse_args()

    print("| v, a, w | exact P(upper) | Euler dt=0.01 | exact sampler | "
          "exact mean decision time | Euler dt=0.01 | exact sampler |")
    print("|---|---|---|---|---|---|---|")
    for i, (v, a, w) in enumerate(ROWS):
        p_upper = np.exp(wfpt_logcdf(np.inf, 0, v, a, w))
        euler_t, euler_c = single_trials(v, a, w, args.n, args.seed + i, "euler")
        exact_t, exact_c = single_trials(v, a, w, args.n, args.seed + 100 + i, "exact")
        print(f"| {v:g}, {a:g}, {w:g} | {p_upper:.3f} | {np.mean(euler_c == 0):.3f} | "
              f"{np.mean(exact_c == 0):.3f} | {exact_mean_time(v, a, w):.4f} s | "
              f"{np.nanmean(euler_t):.4f} s | {exact_t.mean():.4f} s |")

    print(f"\nPIT of whole 60-trial data sets ({args.data_sets} from the post's priors) "
          "under the exact model:")
    print("| simulation | KS D | p |")
    print("|---|---|---|")
    for method, dt in [("euler", 0.01), ("euler", 0.001), ("exact", 0.01)]:
        result = pit_ks(method, dt, args.data_sets, args.seed)
        label = f"Euler dt = {dt:g}" if method == "euler" else "exact"
        print(f"| {label} | {result.statistic:.3f} | {result.pvalue:.2g} |")


if __name__ == "__main__":
    main()
