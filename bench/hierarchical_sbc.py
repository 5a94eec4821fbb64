"""Simulation-based calibration of the hierarchical exact sampler's population means.

For each of ``--studies`` S simulated studies (default 200): population means and SDs
are drawn from the hyperpriors (``rlddm.mcmc.hierarchical``: mu_j ~ N(m_j, s_j),
sigma_j ~ Half-Normal(s_j)), ``--participants`` (20) participants from
z_ij ~ N(mu_j, sigma_j), each simulated on ``--trials`` (60) trials of the default
reversal design, and fitted by :func:`sample_hierarchical` (model ``rlddm``).
The rank of the true mu_j among L = 19 draws, evenly spaced over the pooled chains,
is recorded (ranks 0..19); a calibrated sampler gives uniform ranks (Talts et al.,
2018, arXiv:1804.06788).

Test: per parameter, Pearson's chi-square test of the rank histogram in B = 10 bins
of 2 ranks each against the uniform (9 degrees of freedom), at level 0.05 per
parameter (and a Bonferroni level 0.01 over the 5 parameters). Power, against a
posterior shifted by 0.5 posterior SD (true value's rank quantile Phi(x - 0.5) for
x ~ N(0, 1)), from the noncentral chi-square, printed by ``--power``: at level 0.05,
S = 20: 0.29, S = 50: 0.69, S = 100: 0.97, S = 200: 1.00 (a 0.25-SD bias at S = 200:
0.55). The draws are thinned: with an ESS below L the ranks are
over-dispersed in their bins (the test then rejects too often), so the JSON records
each study's smallest bulk ESS of the means.

``--prior-predictive`` instead simulates participants from the hyperpriors and
prints their parameter quantiles and behaviour (mean RT, share of rewarded trials,
share of RTs above 3 s) next to the per-participant default prior's.

    python bench/hierarchical_sbc.py [--studies 200] [--participants 20] [--trials 60]
        [--warmup 1000] [--draws 500] [--thin 4] [--seed 0] [--out sbc.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import stats

from rlddm.data import read_trials, simulate_participants
from rlddm.mcmc.hierarchical import sample_hierarchical, sample_population_prior
from rlddm.model import get_model

N_RANK_DRAWS = 19
N_BINS = 10


def power(n_studies: int, bias: float = 0.5, level: float = 0.05) -> float:
    """Power of the chi-square test against a posterior shifted by ``bias`` posterior SDs."""
    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    # rank quantile u = Phi(x - bias), x ~ N(0, 1): P(u < q) = Phi(Phi^-1(q) + bias)
    cdf = stats.norm.cdf(stats.norm.ppf(edges) + bias)
    p = np.diff(cdf)
    noncentrality = n_studies * np.sum((p - 1 / N_BINS) ** 2 / (1 / N_BINS))
    critical = stats.chi2.ppf(1 - level, N_BINS - 1)
    return float(stats.ncx2.sf(critical, N_BINS - 1, noncentrality))


def prior_predictive(n: int, n_trials: int, seed: int) -> None:
    spec = get_model("rlddm")
    priors = spec.priors()
    population = sample_population_prior(priors, n, 1, seed=seed)["theta"][:, 0]
    default = priors.sample(n, seed=seed)
    for label, theta in (("hyperprior", population), ("default prior", default)):
        frame, _ = simulate_participants(n, n_trials, theta=theta, seed=seed)
        by = frame.groupby("participant")
        rt = by["rt"].mean()
        print(f"{label}: parameter quantiles 5/50/95%")
        for j, name in enumerate(spec.names):
            q = np.quantile(theta[:, j], [0.05, 0.5, 0.95])
            print(f"  {name:6s} {q[0]:8.3f} {q[1]:8.3f} {q[2]:8.3f}")
        print(f"  mean RT quantiles 5/50/95%: {np.quantile(rt, [0.05, 0.5, 0.95]).round(3)}")
        print(f"  share rewarded 5/50/95%: "
              f"{np.quantile(by['reward'].mean(), [0.05, 0.5, 0.95]).round(3)}")
        print(f"  share of RTs > 3 s: {(frame['rt'] > 3).mean():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=200)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--thin", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="hierarchical_sbc.json")
    parser.add_argument("--power", action="store_true", help="print the test's power and exit")
    parser.add_argument("--prior-predictive", action="store_true")
    args = parser.parse_args()
    if args.power:
        for s in (20, 50, 100, 200):
            print(f"S = {s}: power {power(s):.3f} against a 0.5-SD bias (level 0.05)")
        return
    if args.prior_predictive:
        prior_predictive(500, 120, args.seed)
        return
    spec = get_model("rlddm")
    priors = spec.priors()
    names = spec.names
    population = sample_population_prior(priors, args.studies, args.participants, seed=args.seed)
    ranks = np.zeros((args.studies, len(names)), dtype=np.int64)
    records = []
    started = time.perf_counter()
    for study in range(args.studies):
        t0 = time.perf_counter()
        frame, _ = simulate_participants(args.participants, args.trials,
                                         theta=population["theta"][study],
                                         seed=np.random.SeedSequence([args.seed, study]))
        trials = read_trials(frame)
        fit = sample_hierarchical(trials, spec, n_warmup=args.warmup, n_draws=args.draws,
                                  thin=args.thin, seed=np.random.SeedSequence([args.seed, study, 1]), retry=False)
        pooled = fit.mu.reshape(-1, len(names))
        chosen = np.linspace(0, pooled.shape[0] - 1, N_RANK_DRAWS).round().astype(int)
        ranks[study] = (pooled[chosen] < population["mu"][study]).sum(axis=0)
        seconds = time.perf_counter() - t0
        ess = fit.population_ess_bulk[:len(names)]
        records.append({"study": study, "seconds": seconds, "rank": ranks[study].tolist(),
                        "min_ess_bulk_mu": float(ess.min()),
                        "mu_mean": pooled.mean(axis=0).tolist(),
                        "mu_sd": pooled.std(axis=0, ddof=1).tolist(),
                        "mu_true": population["mu"][study].tolist(),
                        "max_rhat_mu": float(fit.population_rhat[:len(names)].max()),
                        "converged": fit.converged, "n_unconverged": len(fit.unconverged)})
        print(f"study {study}: {seconds:.1f} s, ranks {ranks[study].tolist()}, "
              f"min ESS of mu {ess.min():.0f}", flush=True)
        # the JSON is rewritten after every study, so an interrupted run keeps its ranks
        write(args, names, ranks[:study + 1], records, started, quiet=study + 1 < args.studies)


def write(args: argparse.Namespace, names: tuple[str, ...], ranks: np.ndarray,
          records: list[dict], started: float, quiet: bool) -> None:
    n = len(ranks)
    tests = {}
    for j, name in enumerate(names):
        counts = np.bincount(ranks[:, j] * N_BINS // (N_RANK_DRAWS + 1), minlength=N_BINS)
        chi2, p = stats.chisquare(counts)
        tests[name] = {"counts": counts.tolist(), "chi2": float(chi2), "p": float(p)}
        if not quiet:
            print(f"mu_{name}: bins {counts.tolist()}, chi2 {chi2:.2f}, p = {p:.3f}")
    summary = {"studies": n, "studies_planned": args.studies, "seed": args.seed,
               "participants": args.participants, "trials": args.trials,
               "warmup": args.warmup, "draws": args.draws, "thin": args.thin,
               "rank_draws": N_RANK_DRAWS, "bins": N_BINS, "test": "Pearson chi-square, 9 df",
               "power_0.5sd_bias_level_0.05": power(n), "tests": tests,
               "seconds_total": time.perf_counter() - started,
               "seconds_per_study": float(np.mean([r["seconds"] for r in records])),
               "records": records}
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=1)
    if not quiet:
        print(f"wrote {args.out}: {summary['seconds_per_study']:.1f} s per study")


if __name__ == "__main__":
    main()
