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
from .._seeding import SeedLike, stream_generator
from ..model import DEFAULT_MODEL, DEFAULT_Q0, SLOTS, DriftMap, ModelSpec
from .simulation import (DEFAULT_MAX_RETRIES, SimulationResult, check_simulation_inputs,
                         owned_copy)

UPPER, LOWER, MISSED = 0, 1, -1


def learn(q: list[float], chosen: int, unchosen: int, reward: float, kappa_pos: float,
          kappa_neg: float, phi: float, q0: float) -> None:
    """Update the Q-values in place after feedback ``reward`` on option ``chosen``.

    The chosen option moves toward the reward by its prediction error ``d = reward -
    Q_c`` times ``kappa_pos`` (``d > 0``) or ``kappa_neg`` (otherwise); with ``phi`` > 0
    the other presented option ``unchosen`` then decays toward ``q0``. Options not
    presented never change. A NaN reward (no feedback) changes nothing.
    """
    if math.isnan(reward):
        return
    error = reward - q[chosen]
    q[chosen] = q[chosen] + (kappa_pos if error > 0.0 else kappa_neg) * error
    if phi != 0.0:
        q[unchosen] = q[unchosen] + phi * (q0 - q[unchosen])


def trial_drift(drift_map: DriftMap, drift: float, v_max: float, q_difference: float) -> float:
    """The drift rate of a trial whose presented options differ by ``q_difference``.

    ``LINEAR``: ``drift * dq``. ``SIGMOID``: ``v_max / (1 + exp(-drift * dq)) - v_max / 2``,
    written as the equal ``v_max / 2 * tanh(drift * dq / 2)``, which cannot overflow.
    """
    if drift_map == DriftMap.SIGMOID:
        return 0.5 * v_max * math.tanh(0.5 * drift * q_difference)
    return drift * q_difference


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

    Codes as in :func:`euler_trial`; a passage later than ``t_max`` (or NaN, which the
    sampler gives far outside its domain) is ``MISSED``.
    """
    decision_time, upper = first_passage(rng, drift, alpha, beta)
    if not decision_time <= t_max:
        return MISSED, math.nan
    return (UPPER if upper else LOWER), decision_time


def lapse_trial(rng: np.random.Generator, t_max: float) -> tuple[int, float]:
    """Draw one contaminant response; return (choice, RT).

    Either option with probability 1/2 (first uniform), RT uniform on ``[0, t_max]``
    (second uniform); the kernel draws the same two numbers in this order.
    """
    chosen = UPPER if rng.random() < 0.5 else LOWER
    return chosen, rng.random() * t_max


def simulate(theta: ArrayLike, outcomes: ArrayLike, *, model: str | ModelSpec = DEFAULT_MODEL,
             options: ArrayLike | None = None, n_options: int | None = None,
             q0: float = DEFAULT_Q0, dt: float = 0.01, max_steps: int = 900,
             max_retries: int = DEFAULT_MAX_RETRIES, seed: SeedLike = None,
             n_threads: int | None = None, return_q: bool = False, method: str = "euler",
             first_index: int = 0) -> SimulationResult:
    """Simulate RLDDM data sets in plain Python; see :func:`rlddm.simulate`.

    Same parameters and result as :func:`rlddm.simulate`; ``n_threads`` is accepted
    for signature compatibility and ignored.
    """
    inputs = check_simulation_inputs(theta, outcomes, model=model, options=options,
                                     n_options=n_options, q0=q0, dt=dt, max_steps=max_steps,
                                     max_retries=max_retries, seed=seed, n_threads=n_threads,
                                     return_q=return_q, method=method, first_index=first_index)
    n_simulations, n_trials = inputs.shape
    t_max = inputs.max_steps * inputs.dt
    rt = np.full((n_simulations, n_trials), np.nan)
    choice = np.full((n_simulations, n_trials), MISSED, dtype=np.int8)
    reward = np.zeros((n_simulations, n_trials))
    outcome = np.zeros((n_simulations, n_trials, 2))
    retries = np.zeros((n_simulations, n_trials), dtype=np.int32)
    lapse = np.zeros((n_simulations, n_trials), dtype=np.bool_)
    q_record = np.empty((n_simulations, n_trials + 1, inputs.n_options))

    for b in range(n_simulations):
        params = dict(zip(SLOTS, inputs.slots[b].tolist()))
        alpha, beta = params["alpha"], params["beta"]
        rng = stream_generator(inputs.key, inputs.first_index + b)
        trial_options, trial_outcomes = inputs.options[b].tolist(), inputs.outcomes[b].tolist()
        q = [inputs.q0] * inputs.n_options
        q_record[b, 0] = q
        for t in range(n_trials):
            presented = trial_options[t]
            attempt = 0
            # The lapse draw exists only when lapses can happen (p_outlier > 0).
            lapsed = params["p_outlier"] > 0.0 and rng.random() < params["p_outlier"]
            if lapsed:
                chosen, decision_time = lapse_trial(rng, t_max)
            else:
                v = trial_drift(inputs.model.drift_map, params["drift"], params["v_max"],
                                q[presented[0]] - q[presented[1]])
                # Missed response: run the trial again with the same Q-values and outcomes.
                for attempt in range(inputs.max_retries + 1):
                    if inputs.method == "exact":
                        chosen, decision_time = exact_trial(rng, v, alpha, beta, t_max)
                    else:
                        chosen, decision_time = euler_trial(rng, v, alpha, beta, inputs.dt,
                                                            inputs.max_steps)
                    if chosen != MISSED:
                        break
            retries[b, t] = attempt
            lapse[b, t] = lapsed
            if chosen != MISSED:
                experienced = trial_outcomes[t][chosen]
                choice[b, t] = chosen
                # A lapse's RT is uniform on [0, deadline]: no non-decision time added.
                rt[b, t] = decision_time if lapsed else decision_time + params["ter"]
                reward[b, t] = experienced
                outcome[b, t, chosen] = experienced  # the unchosen option stays 0
                learn(q, presented[chosen], presented[1 - chosen], experienced,
                      params["kappa_pos"], params["kappa_neg"], params["phi"], inputs.q0)
            q_record[b, t + 1] = q
    return SimulationResult(rt=rt, choice=choice, reward=reward, outcome=outcome,
                            retries=retries, lapse=lapse, options=owned_copy(inputs.options),
                            q=q_record if return_q else None)
