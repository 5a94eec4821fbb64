"""What partial pooling gains: hierarchical vs per-participant exact posteriors of the same data.

``--studies`` S studies (default 10) of ``--participants`` (20) participants x
``--trials`` (60) trials of the reversal design; the population is fixed, not drawn:
on the unbounded scale each parameter's mean is its hyperprior mean ``m_j`` and its SD
``--spread`` (0.5) times ``s_j`` (``rlddm.mcmc.hierarchical.hyperprior_moments``), so the
participants differ as much as a moderately heterogeneous sample; ``--offset`` d moves
the population's mean of kappa to ``m + d s`` (d = 0: the per-participant prior is
centred on the population, which favours the separate fits; a real sample's mean is
rarely the default prior's). Each study is fitted
twice with the exact likelihood: every participant alone (:func:`rlddm.fit.exact.fit_exact`,
the model's default priors) and all together (:func:`sample_hierarchical`). Printed per
parameter over all S x K participants: Pearson r of posterior mean and truth, and the
RMSE of the posterior mean, for both fits.

    python bench/hierarchical_pooling.py [--studies 10] [--participants 20] [--trials 60]
        [--spread 0.5] [--offset 0] [--seed 0] [--out pooling.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from rlddm.data import read_trials, simulate_participants
from rlddm.fit.exact import fit_exact
from rlddm.mcmc.hierarchical import hyperprior_moments, sample_hierarchical
from rlddm.model import get_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--spread", type=float, default=0.5)
    parser.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="hierarchical_pooling.json")
    args = parser.parse_args()
    spec = get_model("rlddm")
    priors = spec.priors()
    m, s = hyperprior_moments(priors)
    rng = np.random.default_rng(args.seed)
    truth, alone, pooled, seconds = [], [], [], []
    for study in range(args.studies):
        z = m + args.spread * s * rng.standard_normal((args.participants, spec.n_free))
        z[:, spec.names.index("kappa")] += args.offset * s[spec.names.index("kappa")]
        theta = priors._vector.from_unbounded(z)
        frame, _ = simulate_participants(args.participants, args.trials, theta=theta,
                                         seed=np.random.SeedSequence([args.seed, study]))
        trials = read_trials(frame)
        t0 = time.perf_counter()
        separate = fit_exact(trials, spec, seed=study, n_jobs=1)
        t1 = time.perf_counter()
        together = sample_hierarchical(trials, spec, seed=study, n_threads=1)
        t2 = time.perf_counter()
        draws = np.asarray(separate.batch.draws)  # (K, C, N, P)
        alone.append(draws.reshape(draws.shape[0], -1, spec.n_free).mean(axis=1))
        pooled.append(together.draws.mean(axis=(0, 1)))
        truth.append(theta)
        seconds.append((t1 - t0, t2 - t1))
        print(f"study {study}: separate {t1 - t0:.0f} s, hierarchical {t2 - t1:.0f} s "
              f"(converged {together.converged})", flush=True)
    truth, alone, pooled = (np.concatenate(x) for x in (truth, alone, pooled))
    result = {"studies": args.studies, "participants": args.participants,
              "trials": args.trials, "spread": args.spread, "offset": args.offset, "parameters": {},
              "seconds_separate_hierarchical": np.mean(seconds, axis=0).tolist()}
    for j, name in enumerate(spec.names):
        entry = {}
        for label, estimate in (("separate", alone), ("hierarchical", pooled)):
            entry[f"r_{label}"] = float(np.corrcoef(estimate[:, j], truth[:, j])[0, 1])
            entry[f"rmse_{label}"] = float(np.sqrt(np.mean((estimate[:, j] - truth[:, j]) ** 2)))
        result["parameters"][name] = entry
        print(f"{name:6s} r separate {entry['r_separate']:.3f} hierarchical "
              f"{entry['r_hierarchical']:.3f}; RMSE {entry['rmse_separate']:.4f} -> "
              f"{entry['rmse_hierarchical']:.4f}")
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
