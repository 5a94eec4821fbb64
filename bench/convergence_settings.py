"""Convergence at the first length on HDDM's hardest participants, for several sampler settings.

    python bench/convergence_settings.py DATA.csv WARMUP DRAWS THIN SEED [PARTICIPANT ...]

Prints, per participant, the smallest bulk and tail ESS and the largest R-hat over the
parameters (no rerun), and the worker CPU seconds.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from rlddm.data import read_trials
from rlddm.exact_fit import fit_exact

path, warmup, draws, thin, seed, *who = sys.argv[1:]
table = pd.read_csv(path)
if who:
    table = table[table.subj_idx.astype(str).isin(who)]
trials = read_trials(table, layout="hddm")
start = time.process_time()
fit = fit_exact(trials, n_jobs=1, n_warmup=int(warmup), n_draws=int(draws), thin=int(thin),
                retry=False, seed=int(seed), chunk_trials=10**9)
batch = fit.batch
print(f"W={warmup} draws={draws} thin={thin} seed={seed}: cpu {time.process_time() - start:.1f} s; "
      f"passed {int(batch.converged.sum())}/{len(batch)}")
for k, p in enumerate(trials):
    print(f"  {p.participant:>4} bulk {batch.ess_bulk[k].min():6.0f} tail {batch.ess_tail[k].min():6.0f}"
          f" rhat {batch.rhat[k].max():.4f} {batch.reasons[k]}")
