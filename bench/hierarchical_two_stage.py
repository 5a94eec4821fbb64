"""The two-stage (amortized) hierarchical method against the exact one, on the SBC studies.

Reads the JSON of ``bench/hierarchical_sbc.py`` (the exact sampler's posterior mean and
SD of every population mean ``mu_j``, per study), simulates the same studies again (the
same seeds: 20 participants x 60 trials of the reversal design, parameters from the
hyperpriors), fits each with the shipped network and
:func:`rlddm.mcmc.two_stage.sample_hierarchical_two_stage`, and reports per parameter

* the gap ``|two-stage mean - exact mean| / exact SD`` of mu_j (median and 90th
  percentile over studies), and the ratio of posterior SDs;
* the same over the studies where the two-stage method passed its own checks
  (importance ESS of every participant >= 50, R-hat, ESS);
* the two-stage method's own SBC ranks (of the true mu_j among 19 of its draws) and
  the chi-square test of their histogram, as in ``hierarchical_sbc.py``;
* seconds per study (network draws and Gibbs sampler).

    python bench/hierarchical_two_stage.py --sbc hierarchical_sbc.json [--studies 50]
        [--out hierarchical_two_stage.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import stats

from rlddm.data import read_trials, simulate_participants
from rlddm.fit import fit_participants, shipped_model
from rlddm.inference import AmortizedPosterior
from rlddm.mcmc.hierarchical import sample_population_prior
from rlddm.mcmc.two_stage import sample_hierarchical_two_stage
from rlddm.model import get_model

N_RANK_DRAWS, N_BINS = 19, 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sbc", required=True, help="JSON written by hierarchical_sbc.py")
    parser.add_argument("--studies", type=int, default=None, help="default: all in --sbc")
    parser.add_argument("--stage-one-draws", type=int, default=2000)
    parser.add_argument("--out", default="hierarchical_two_stage.json")
    args = parser.parse_args()
    sbc = json.loads(open(args.sbc).read())
    records = [r for r in sbc["records"] if "mu_mean" in r][:args.studies]
    spec = get_model("rlddm")
    posterior = AmortizedPosterior.load(shipped_model())
    priors = posterior.config.priors
    # the SBC run drew every planned study's population at once: the same call again
    population = sample_population_prior(priors, sbc.get("studies_planned", 200),
                                         sbc["participants"], seed=sbc.get("seed", 0))
    rows, failed = [], []
    for record in records:
        study = record["study"]
        frame, _ = simulate_participants(sbc["participants"], sbc["trials"],
                                         theta=population["theta"][study],
                                         seed=np.random.SeedSequence([sbc.get("seed", 0), study]))
        trials = read_trials(frame)
        t0 = time.perf_counter()
        stage_one = fit_participants(trials, posterior, n_draws=args.stage_one_draws,
                                     seed=study)
        t1 = time.perf_counter()
        try:
            fit = sample_hierarchical_two_stage(stage_one.draws, trials.participants, spec,
                                                priors=priors, seed=study)
        except ValueError as error:  # e.g. a participant's draws all on a bound
            failed.append({"study": study, "error": str(error)})
            print(f"study {study}: refused: {error}", flush=True)
            continue
        t2 = time.perf_counter()
        pooled = fit.mu.reshape(-1, spec.n_free)
        mean, sd = np.array(record["mu_mean"]), np.array(record["mu_sd"])
        chosen = np.linspace(0, pooled.shape[0] - 1, N_RANK_DRAWS).round().astype(int)
        rows.append({"study": study, "network_seconds": t1 - t0, "gibbs_seconds": t2 - t1,
                     "gap": ((pooled.mean(axis=0) - mean) / sd).tolist(),
                     "sd_ratio": (pooled.std(axis=0, ddof=1) / sd).tolist(),
                     "rank": (pooled[chosen] < population["mu"][study]).sum(axis=0).tolist(),
                     "min_importance_ess": float(fit.settings["importance_ess"].min()),
                     "converged": fit.converged, "exact_converged": record["converged"]})
        print(f"study {study}: {t1 - t0:.1f} + {t2 - t1:.1f} s, gap "
              f"{np.round(rows[-1]['gap'], 2).tolist()}, importance ESS "
              f"{rows[-1]['min_importance_ess']:.0f}, converged {fit.converged}", flush=True)
    summary = {"studies": len(rows), "refused": failed, "stage_one_draws": args.stage_one_draws,
               "seconds_per_study": float(np.mean([r["network_seconds"] + r["gibbs_seconds"]
                                                   for r in rows])),
               "parameters": {}, "rows": rows}
    gap = np.abs(np.array([r["gap"] for r in rows]))
    ratio = np.array([r["sd_ratio"] for r in rows])
    ranks = np.array([r["rank"] for r in rows])
    good = np.array([r["converged"] and r["exact_converged"] for r in rows])
    summary["n_both_converged"] = int(good.sum())
    for j, name in enumerate(spec.names):
        counts = np.bincount(ranks[:, j] * N_BINS // (N_RANK_DRAWS + 1), minlength=N_BINS)
        chi2, p = stats.chisquare(counts)
        entry = {"median_gap": float(np.median(gap[:, j])),
                 "p90_gap": float(np.quantile(gap[:, j], 0.9)),
                 "median_sd_ratio": float(np.median(ratio[:, j])),
                 "median_gap_both_converged": (float(np.median(gap[good, j])) if good.any()
                                               else None),
                 "rank_bins": counts.tolist(), "rank_chi2": float(chi2), "rank_p": float(p)}
        summary["parameters"][name] = entry
        print(f"mu_{name}: median gap {entry['median_gap']:.2f} SD (p90 "
              f"{entry['p90_gap']:.2f}; converged both: {entry['median_gap_both_converged']}), "
              f"SD ratio {entry['median_sd_ratio']:.2f}, ranks {counts.tolist()} p = {p:.3f}")
    print(f"{summary['seconds_per_study']:.1f} s per study; {good.sum()} of {len(rows)} studies "
          "converged under both methods")
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=1)


if __name__ == "__main__":
    main()
