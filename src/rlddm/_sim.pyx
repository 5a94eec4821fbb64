# cython: language_level=3
"""Compiled RLDDM trial loop: batched over simulations, GIL released, one Philox stream each.

The readable specification of the same model is ``rlddm.reference``; the validated
Python entry point is ``rlddm.simulate``. Functions here trust their inputs.
"""

cimport cython
from cython.parallel cimport prange
from libc.math cimport NAN, sqrt
from libc.stdlib cimport free, malloc
from libc.stdint cimport int8_t, int32_t, uint64_t
from numpy.random cimport bitgen_t

cdef extern from "_philox.h":
    ctypedef struct rlddm_philox_state:
        pass
    void rlddm_stream_init(rlddm_philox_state *state, bitgen_t *bitgen, uint64_t key0,
                           uint64_t key1, uint64_t index) noexcept nogil

cdef extern from "_ziggurat.h":
    int rlddm_ziggurat_init() noexcept nogil
    double rlddm_standard_normal(rlddm_philox_state *state) noexcept nogil

cdef extern from *:
    """
    /* Exact mode: _wiener.h draws through the inline samplers of the same stream. */
    #define RLDDM_WIENER_NORMAL(rng) rlddm_standard_normal((rlddm_philox_state *)(rng)->state)
    #define RLDDM_WIENER_UNIFORM(rng) rlddm_philox_next_double((rng)->state)
    #include "_wiener.h"
    """
    double wiener_first_passage(bitgen_t *rng, double v, double a, double w,
                                int *upper) noexcept nogil

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define RLDDM_OPENMP 1
    static int rlddm_max_threads(void) { return omp_get_max_threads(); }
    #else
    #define RLDDM_OPENMP 0
    static int rlddm_max_threads(void) { return 1; }
    #endif
    """
    int RLDDM_OPENMP
    int rlddm_max_threads() noexcept nogil

OPENMP = bool(RLDDM_OPENMP)

# Read NumPy's ziggurat tables out of its sampler and check the inline copy against it.
_ziggurat_status = rlddm_ziggurat_init()
if _ziggurat_status != 0:
    raise ImportError(f"rlddm._sim: inline normal sampler disagrees with NumPy's "
                      f"random_standard_normal (check {_ziggurat_status})")

# Boundary codes returned by the trial samplers; they double as the recorded choice.
cdef enum:
    UPPER = 0
    LOWER = 1
    MISSED = -1

# Position in rlddm.simulation.METHODS.
cdef enum:
    EULER = 0
    EXACT = 1

METHOD_EULER = EULER
METHOD_EXACT = EXACT


cdef inline void learn(double *q_values, int chosen, double reward,
                       double rate) noexcept nogil:
    """Q-learning update of the chosen arm; a missed trial (choice -1) changes nothing.

    The one update rule of the simulator and of both replays, so replayed Q-values
    equal simulated ones bit for bit.
    """
    if chosen == UPPER or chosen == LOWER:
        q_values[chosen] = q_values[chosen] + rate * (reward - q_values[chosen])


def max_threads():
    """Threads an unrestricted call uses (1 when built without OpenMP)."""
    return rlddm_max_threads()


cdef inline int euler_trial(rlddm_philox_state *rng, double drift, double alpha,
                            double beta, double dt, double sqrt_dt, int max_steps,
                            double *decision_time) noexcept nogil:
    """One Euler random walk from alpha*beta until it leaves (0, alpha) or max_steps pass."""
    cdef double evidence = alpha * beta
    cdef double drift_step = drift * dt
    cdef int step
    for step in range(1, max_steps + 1):
        evidence += drift_step + sqrt_dt * rlddm_standard_normal(rng)
        if evidence >= alpha:
            decision_time[0] = step * dt
            return UPPER
        if evidence <= 0.0:
            decision_time[0] = step * dt
            return LOWER
    return MISSED


cdef inline int exact_trial(bitgen_t *rng, double drift, double alpha, double beta,
                            double t_max, double *decision_time) noexcept nogil:
    """One exact first passage (_wiener.h); a passage after t_max is a missed response."""
    cdef int upper
    cdef double passage = wiener_first_passage(rng, drift, alpha, beta, &upper)
    if passage > t_max:
        return MISSED
    decision_time[0] = passage
    return UPPER if upper else LOWER


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void simulate_one(Py_ssize_t b, const double[:, :] theta, const int8_t[:, :, :] outcomes,
                       double dt, int max_steps, int max_retries, uint64_t key0, uint64_t key1,
                       uint64_t first_index, int method, double[:, ::1] rt,
                       int8_t[:, ::1] choice, int8_t[:, ::1] reward,
                       int8_t[:, :, ::1] outcome, int32_t[:, ::1] retries,
                       double[:, :, ::1] q, bint record_q) noexcept nogil:
    cdef rlddm_philox_state state
    cdef bitgen_t rng
    cdef double drift = theta[b, 0]
    cdef double alpha = theta[b, 1]
    cdef double beta = theta[b, 2]
    cdef double ter = theta[b, 3]
    cdef double kappa = theta[b, 4]
    cdef double sqrt_dt = sqrt(dt)
    cdef double t_max = max_steps * dt
    cdef double q_values[2]
    cdef double decision_time = 0.0
    cdef Py_ssize_t t, n_trials = outcomes.shape[1]
    cdef int attempt, chosen
    cdef int8_t experienced

    rlddm_stream_init(&state, &rng, key0, key1, first_index + <uint64_t>b)
    q_values[0] = 0.5
    q_values[1] = 0.5
    if record_q:
        q[b, 0, 0] = 0.5
        q[b, 0, 1] = 0.5
    for t in range(n_trials):
        chosen = MISSED
        for attempt in range(max_retries + 1):
            if method == EXACT:
                chosen = exact_trial(&rng, drift * (q_values[0] - q_values[1]), alpha, beta,
                                     t_max, &decision_time)
            else:
                chosen = euler_trial(&state, drift * (q_values[0] - q_values[1]), alpha, beta,
                                     dt, sqrt_dt, max_steps, &decision_time)
            if chosen != MISSED:
                break
        retries[b, t] = attempt
        choice[b, t] = chosen
        outcome[b, t, 0] = 0
        outcome[b, t, 1] = 0
        if chosen == MISSED:
            rt[b, t] = NAN
            reward[b, t] = 0
        else:
            experienced = outcomes[b, t, chosen]
            rt[b, t] = decision_time + ter
            reward[b, t] = experienced
            outcome[b, t, chosen] = experienced
            learn(q_values, chosen, experienced, kappa)
        if record_q:
            q[b, t + 1, 0] = q_values[0]
            q[b, t + 1, 1] = q_values[1]


def simulate_batch(const double[:, :] theta, const int8_t[:, :, :] outcomes, double dt,
                   int max_steps, int max_retries, uint64_t key0, uint64_t key1,
                   uint64_t first_index, int method, int n_threads, double[:, ::1] rt,
                   int8_t[:, ::1] choice, int8_t[:, ::1] reward, int8_t[:, :, ::1] outcome,
                   int32_t[:, ::1] retries, double[:, :, ::1] q, bint record_q):
    """Fill the output buffers for every simulation (rows of ``theta``) in parallel.

    ``theta`` (B, 5) and ``outcomes`` (B, T, 2) may be broadcast views (zero strides).
    Simulation ``b`` draws from the Philox stream ``(key0, key1)`` with counter word
    3 equal to ``first_index + b``. ``q`` must be (B, T + 1, 2) when ``record_q``.
    """
    cdef Py_ssize_t b, n_simulations = theta.shape[0]
    with nogil:
        for b in prange(n_simulations, schedule="dynamic", chunksize=1, num_threads=n_threads):
            simulate_one(b, theta, outcomes, dt, max_steps, max_retries, key0, key1,
                         first_index, method, rt, choice, reward, outcome, retries, q, record_q)


@cython.boundscheck(False)
@cython.wraparound(False)
def stream_normals(uint64_t key0, uint64_t key1, uint64_t index, double[::1] out):
    """Fill ``out`` with the standard normals the kernel draws on stream ``index``."""
    cdef rlddm_philox_state state
    cdef bitgen_t rng
    cdef Py_ssize_t i
    with nogil:
        rlddm_stream_init(&state, &rng, key0, key1, index)
        for i in range(out.shape[0]):
            out[i] = rlddm_standard_normal(&state)


@cython.boundscheck(False)
@cython.wraparound(False)
def first_passage_batch(const double[::1] v, const double[::1] a, const double[::1] w,
                        uint64_t key0, uint64_t key1, uint64_t index,
                        double[::1] decision_time, int8_t[::1] choice, int method=EXACT,
                        double dt=0.01, int max_steps=900):
    """Single diffusion trials for (v[i], a[i], w[i]), drawn in order on stream ``index``.

    choice 0 = upper boundary a, 1 = lower boundary 0. The exact method is not
    truncated; an Euler walk that reaches no boundary in ``max_steps`` steps gives
    choice -1 and a NaN decision time (for tests and benchmarks).
    """
    cdef rlddm_philox_state state
    cdef bitgen_t rng
    cdef Py_ssize_t i
    cdef int upper
    cdef double sqrt_dt = sqrt(dt)
    with nogil:
        rlddm_stream_init(&state, &rng, key0, key1, index)
        for i in range(v.shape[0]):
            if method == EXACT:
                decision_time[i] = wiener_first_passage(&rng, v[i], a[i], w[i], &upper)
                choice[i] = UPPER if upper else LOWER
            else:
                decision_time[i] = NAN
                choice[i] = euler_trial(&state, v[i], a[i], w[i], dt, sqrt_dt, max_steps,
                                        &decision_time[i])


@cython.boundscheck(False)
@cython.wraparound(False)
def replay_q_differences(const int8_t[:, :] choice, const int8_t[:, :] reward,
                         const double[::1] learning_rates, double[:, :, ::1] out):
    """``out[b, t, k] = Q0 - Q1`` before trial ``t`` of data set ``b`` at ``learning_rates[k]``.

    The Q-values (starting at 0.5) are replayed from the observed choices and the
    chosen arm's rewards; a missed trial (choice -1) leaves them unchanged.
    """
    cdef Py_ssize_t b, t, k
    cdef Py_ssize_t n_sets = choice.shape[0], n_trials = choice.shape[1]
    cdef Py_ssize_t n_rates = learning_rates.shape[0]
    cdef double q_values[2]
    with nogil:
        for b in range(n_sets):
            for k in range(n_rates):
                q_values[0] = 0.5
                q_values[1] = 0.5
                for t in range(n_trials):
                    out[b, t, k] = q_values[0] - q_values[1]
                    learn(q_values, choice[b, t], reward[b, t], learning_rates[k])


@cython.boundscheck(False)
@cython.wraparound(False)
def replay_sums(const int8_t[:, ::1] choice, const int8_t[:, ::1] reward,
                const double[:, ::1] rt, const double[::1] learning_rates,
                double[:, :, ::1] out):
    """Trial sums of the replayed ``x = Q0 - Q1`` at each learning rate, in one pass.

    ``out[b, 0, k]`` = sum of x over upper-boundary choices (choice 0), ``out[b, 1, k]``
    = sum of x, ``out[b, 2, k]`` = sum of x**2 * rt and ``out[b, 3, k]`` = sum of x**2,
    with x replayed as in :func:`replay_q_differences` (missed trials, choice -1, are
    left out of the sums and leave Q unchanged). The learning rates are the inner loop:
    their replays are independent, so the CPU runs them side by side instead of
    waiting on one replay's chain of updates.
    """
    cdef Py_ssize_t b, t, k
    cdef Py_ssize_t n_sets = choice.shape[0], n_trials = choice.shape[1]
    cdef Py_ssize_t n_rates = learning_rates.shape[0]
    cdef double x, squared, response_time
    cdef int chosen, outcome
    cdef double *q_values = <double *> malloc(2 * max(n_rates, 1) * sizeof(double))
    if q_values == NULL:
        raise MemoryError()
    try:
        with nogil:
            for b in range(n_sets):
                for k in range(n_rates):
                    q_values[2 * k] = 0.5
                    q_values[2 * k + 1] = 0.5
                    out[b, 0, k] = 0.0
                    out[b, 1, k] = 0.0
                    out[b, 2, k] = 0.0
                    out[b, 3, k] = 0.0
                for t in range(n_trials):
                    chosen = choice[b, t]
                    if chosen == MISSED:
                        continue
                    outcome = reward[b, t]
                    response_time = rt[b, t]
                    for k in range(n_rates):
                        x = q_values[2 * k] - q_values[2 * k + 1]
                        if chosen == UPPER:
                            out[b, 0, k] = out[b, 0, k] + x
                        out[b, 1, k] = out[b, 1, k] + x
                        squared = x * x
                        out[b, 2, k] = out[b, 2, k] + squared * response_time
                        out[b, 3, k] = out[b, 3, k] + squared
                        learn(&q_values[2 * k], chosen, outcome, learning_rates[k])
    finally:
        free(q_values)
