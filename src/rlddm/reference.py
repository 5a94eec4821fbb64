"""Plain-Python specification of the RLDDM simulator, one trial at a time.

This is the model as it is meant to be read; ``rlddm.simulate`` is the same model
compiled. Both take the same arguments and, given the same seed, consume the same
random numbers in the same order (one NumPy Philox stream per simulation), so they
agree to the last bit as well as in distribution. It is slow by design and never
used as a fallback for the compiled simulator.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._wiener_reference import first_passage
from ._seeding import SeedLike, stream_generator, stream_key
from .parameters import check_theta
from .simulation import (DEFAULT_MAX_RETRIES, SimulationResult, broadcast_batch,
                         check_outcomes, check_simulation_options)

UPPER, LOWER, MISSED = 0, 1, -1


def euler_trial(rng: np.random.Generator, drift: float, alpha: float, beta: float, dt: float,
                max_steps: int) -> tuple[int, float]:
    """Run one Euler random walk; return (boundary, decision time).

    The walk starts at ``alpha * beta`` and adds ``drift * dt + sqrt(dt) * e``,
    ``e ~ N(0, 1)``, per step until it leaves (0, alpha) or ``max_steps`` steps
    have passed. Boundary 0 (``UPPER``) is alpha, 1 (``LOWER``) is 0, -1 (``MISSED``)
    means no boundary was reached (decision time NaN).
    """
    evidence = alpha * beta
    for step in range(1, max_steps + 1):
        evidence += drift * dt + math.sqrt(dt) * rng.standard_normal()
        if evidence >= alpha:
            return UPPER, step * dt
        if evidence <= 0.0:
            return LOWER, step * dt
    return MISSED, math.nan


def exact_trial(rng: np.random.Generator, drift: float, alpha: float, beta: float,
                t_max: float) -> tuple[int, float]:
    """Draw one exact first passage; return (boundary, decision time).

    Codes as in :func:`euler_trial`; a passage later than ``t_max`` is ``MISSED``.
    """
    decision_time, upper = first_passage(rng, drift, alpha, beta)
    if decision_time > t_max:
        return MISSED, math.nan
    return (UPPER if upper else LOWER), decision_time


def simulate(theta: ArrayLike, outcomes: ArrayLike, *, dt: float = 0.01, max_steps: int = 900,
             max_retries: int = DEFAULT_MAX_RETRIES, seed: SeedLike = None,
             n_threads: int | None = None, return_q: bool = False, method: str = "euler",
             first_index: int = 0) -> SimulationResult:
    """Simulate RLDDM data sets in plain Python; see :func:`rlddm.simulate`.

    Same parameters and result as :func:`rlddm.simulate`; ``n_threads`` is accepted
    for signature compatibility and ignored.
    """
    theta, outcomes = broadcast_batch(check_theta(theta), check_outcomes(outcomes))
    n_simulations, n_trials = outcomes.shape[:2]
    check_simulation_options(dt, max_steps, max_retries, n_threads, method, first_index,
                             n_simulations)
    key = stream_key(seed)
    rt = np.full((n_simulations, n_trials), np.nan)
    choice = np.full((n_simulations, n_trials), MISSED, dtype=np.int8)
    reward = np.zeros((n_simulations, n_trials), dtype=np.int8)
    outcome = np.zeros((n_simulations, n_trials, 2), dtype=np.int8)
    retries = np.zeros((n_simulations, n_trials), dtype=np.int32)
    q_record = np.empty((n_simulations, n_trials + 1, 2))

    for b in range(n_simulations):
        drift, alpha, beta, ter, kappa = (float(x) for x in theta[b])
        rng = stream_generator(key, first_index + b)
        q = [0.5, 0.5]
        q_record[b, 0] = q
        for t in range(n_trials):
            trial_drift = drift * (q[0] - q[1])
            # Missed response: run the trial again with the same Q-values and outcomes.
            for attempt in range(max_retries + 1):
                if method == "exact":
                    chosen, decision_time = exact_trial(rng, trial_drift, alpha, beta,
                                                        int(max_steps) * float(dt))
                else:
                    chosen, decision_time = euler_trial(rng, trial_drift, alpha, beta,
                                                        float(dt), int(max_steps))
                if chosen != MISSED:
                    break
            retries[b, t] = attempt
            if chosen != MISSED:
                experienced = int(outcomes[b, t, chosen])
                choice[b, t] = chosen
                rt[b, t] = decision_time + ter
                reward[b, t] = experienced
                outcome[b, t, chosen] = experienced  # the unchosen arm stays 0
                q[chosen] = q[chosen] + kappa * (experienced - q[chosen])
            q_record[b, t + 1] = q
    return SimulationResult(rt, choice, reward, outcome, retries,
                            q_record if return_q else None)
