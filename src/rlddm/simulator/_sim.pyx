# cython: language_level=3
"""Compiled RLDDM trial loop: batched over simulations, GIL released, one Philox stream each.

The readable specification of the same model is ``rlddm.reference``; the validated
Python entry point is ``rlddm.simulate``. Functions here trust their inputs.
"""

cimport cython
from cython.parallel cimport prange
from libc.math cimport NAN, isnan, sqrt, tanh
from libc.stdlib cimport free, malloc
from libc.stdint cimport int8_t, int32_t, uint64_t
from numpy.random cimport bitgen_t

cdef extern from "_philox.h":
    ctypedef struct rlddm_philox_state:
        pass
    void rlddm_stream_init(rlddm_philox_state *state, bitgen_t *bitgen, uint64_t key0,
                           uint64_t key1, uint64_t index) noexcept nogil
    double rlddm_philox_next_double(void *state) noexcept nogil

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

# Boundary codes returned by the trial samplers; they double as the recorded choice and
# as the position, in a trial's pair of options, of the option chosen.
cdef enum:
    UPPER = 0
    LOWER = 1
    MISSED = -1

# Position in rlddm.simulation.METHODS.
cdef enum:
    EULER = 0
    EXACT = 1

# rlddm.model.DriftMap.
cdef enum:
    LINEAR = 0
    SIGMOID = 1

# Columns of the parameter array: rlddm.model.SLOTS, checked against SLOTS below by the tests.
cdef enum:
    DRIFT = 0
    ALPHA = 1
    BETA = 2
    TER = 3
    KAPPA_POS = 4
    KAPPA_NEG = 5
    PHI = 6
    V_MAX = 7
    P_OUTLIER = 8

# Q-values of neighbouring simulations sit this many doubles apart (one cache line), so
# threads working on them do not write to one line.
cdef enum:
    LINE_DOUBLES = 8

METHOD_EULER = EULER
METHOD_EXACT = EXACT
DRIFT_LINEAR = LINEAR
DRIFT_SIGMOID = SIGMOID
SLOTS = ("drift", "alpha", "beta", "ter", "kappa_pos", "kappa_neg", "phi", "v_max",
         "p_outlier")


cdef inline void learn(double *q_values, int chosen, int unchosen, double reward,
                       double kappa_pos, double kappa_neg, double phi,
                       double q0) noexcept nogil:
    """Update after feedback on option ``chosen`` with ``unchosen`` the other one presented.

    ``Q_c += (kappa_pos if d > 0 else kappa_neg) * d`` with ``d = reward - Q_c``; then, if
    ``phi`` is not 0, ``Q_u += phi * (q0 - Q_u)``. ``chosen < 0`` (a missed response) or
    a NaN reward (no feedback) changes nothing. The one update rule of the simulator and
    of every replay, so replayed Q-values equal simulated ones bit for bit; with both
    rates equal and ``phi`` 0 it is the delta rule ``Q_c + kappa * (reward - Q_c)``.
    """
    cdef double error
    if chosen < 0 or isnan(reward):
        return
    error = reward - q_values[chosen]
    q_values[chosen] = q_values[chosen] + (kappa_pos if error > 0.0 else kappa_neg) * error
    if phi != 0.0:
        q_values[unchosen] = q_values[unchosen] + phi * (q0 - q_values[unchosen])


cdef inline double trial_drift(int drift_map, double drift, double v_max,
                               double q_difference) noexcept nogil:
    """Drift rate of a trial from ``Q(first option) - Q(second option)``.

    The sigmoid ``v_max / (1 + exp(-drift * dq)) - v_max / 2`` is written through tanh,
    which equals it and cannot overflow; the reference uses the same expression.
    """
    if drift_map == SIGMOID:
        return 0.5 * v_max * tanh(0.5 * drift * q_difference)
    return drift * q_difference


cdef Py_ssize_t _PARALLEL_MIN = 4096  # fewer elements: one thread (starting threads costs more)


cdef inline int thread_count(int requested) noexcept nogil:
    """``requested`` threads, or all when it is < 1 or more than OpenMP offers."""
    cdef int available = rlddm_max_threads()
    if requested < 1 or requested > available:
        return available
    return requested


cdef double *line_padded_rows(Py_ssize_t n_rows, Py_ssize_t n_values,
                              Py_ssize_t *stride) except NULL:
    """Scratch of ``n_rows`` rows of ``n_values`` doubles, each row on its own cache lines."""
    cdef double *rows
    stride[0] = ((n_values + LINE_DOUBLES - 1) // LINE_DOUBLES) * LINE_DOUBLES
    rows = <double *> malloc(max(n_rows, 1) * stride[0] * sizeof(double))
    if rows == NULL:
        raise MemoryError()
    return rows


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
    """One exact first passage (_wiener.h); a passage after t_max is a missed response.

    So is a NaN passage, which the sampler's arithmetic gives far outside its documented
    domain (alpha near 1e200): a trial is never answered without a response time.
    """
    cdef int upper
    cdef double passage = wiener_first_passage(rng, drift, alpha, beta, &upper)
    if not passage <= t_max:
        return MISSED
    decision_time[0] = passage
    return UPPER if upper else LOWER


cdef inline int lapse_trial(rlddm_philox_state *rng, double t_max,
                            double *response_time) noexcept nogil:
    """A contaminant response: either option with probability 1/2, RT uniform on [0, t_max]."""
    cdef int chosen = UPPER if rlddm_philox_next_double(rng) < 0.5 else LOWER
    response_time[0] = rlddm_philox_next_double(rng) * t_max
    return chosen


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void simulate_one(Py_ssize_t b, const double[:, :] slots, const double[:, :, :] outcomes,
                       const int32_t[:, :, :] options, Py_ssize_t n_options, double q0,
                       int drift_map, double dt, int max_steps, int max_retries,
                       uint64_t key0, uint64_t key1, uint64_t first_index, int method,
                       double *q_values, double[:, ::1] rt, int8_t[:, ::1] choice,
                       double[:, ::1] reward, double[:, :, ::1] outcome,
                       int32_t[:, ::1] retries, int8_t[:, ::1] lapse, double[:, :, ::1] q,
                       bint record_q) noexcept nogil:
    cdef rlddm_philox_state state
    cdef bitgen_t rng
    cdef double drift = slots[b, DRIFT]
    cdef double alpha = slots[b, ALPHA]
    cdef double beta = slots[b, BETA]
    cdef double ter = slots[b, TER]
    cdef double kappa_pos = slots[b, KAPPA_POS]
    cdef double kappa_neg = slots[b, KAPPA_NEG]
    cdef double phi = slots[b, PHI]
    cdef double v_max = slots[b, V_MAX]
    cdef double p_outlier = slots[b, P_OUTLIER]
    cdef double sqrt_dt = sqrt(dt)
    cdef double t_max = max_steps * dt
    cdef double decision_time = 0.0, v, experienced
    cdef Py_ssize_t t, k, n_trials = outcomes.shape[1]
    cdef int attempt, chosen, first, second
    cdef bint lapsed

    rlddm_stream_init(&state, &rng, key0, key1, first_index + <uint64_t>b)
    for k in range(n_options):
        q_values[k] = q0
        if record_q:
            q[b, 0, k] = q0
    for t in range(n_trials):
        first = options[b, t, 0]
        second = options[b, t, 1]
        attempt = 0
        # The lapse draw exists only when lapses can happen, so p_outlier = 0 leaves
        # the stream, and every result, as it was before lapses were added.
        lapsed = p_outlier > 0.0 and rlddm_philox_next_double(&state) < p_outlier
        if lapsed:
            chosen = lapse_trial(&state, t_max, &decision_time)
        else:
            v = trial_drift(drift_map, drift, v_max, q_values[first] - q_values[second])
            chosen = MISSED
            for attempt in range(max_retries + 1):
                if method == EXACT:
                    chosen = exact_trial(&rng, v, alpha, beta, t_max, &decision_time)
                else:
                    chosen = euler_trial(&state, v, alpha, beta, dt, sqrt_dt, max_steps,
                                         &decision_time)
                if chosen != MISSED:
                    break
        retries[b, t] = attempt
        choice[b, t] = chosen
        lapse[b, t] = lapsed
        outcome[b, t, 0] = 0.0
        outcome[b, t, 1] = 0.0
        if chosen == MISSED:
            rt[b, t] = NAN
            reward[b, t] = 0.0
        else:
            experienced = outcomes[b, t, chosen]
            rt[b, t] = decision_time if lapsed else decision_time + ter
            reward[b, t] = experienced
            outcome[b, t, chosen] = experienced
            learn(q_values, options[b, t, chosen], options[b, t, 1 - chosen], experienced,
                  kappa_pos, kappa_neg, phi, q0)
        if record_q:
            for k in range(n_options):
                q[b, t + 1, k] = q_values[k]


def simulate_batch(const double[:, :] slots, const double[:, :, :] outcomes,
                   const int32_t[:, :, :] options, Py_ssize_t n_options, double q0,
                   int drift_map, double dt, int max_steps, int max_retries, uint64_t key0,
                   uint64_t key1, uint64_t first_index, int method, int n_threads,
                   double[:, ::1] rt, int8_t[:, ::1] choice, double[:, ::1] reward,
                   double[:, :, ::1] outcome, int32_t[:, ::1] retries, int8_t[:, ::1] lapse,
                   double[:, :, ::1] q, bint record_q):
    """Fill the output buffers for every simulation (rows of ``slots``) in parallel.

    ``slots`` (B, 9), ``outcomes`` (B, T, 2) and ``options`` (B, T, 2) may be broadcast
    views (zero strides); every option index must be in ``[0, n_options)`` and the two of
    a trial distinct. Simulation ``b`` draws from the Philox stream ``(key0, key1)`` with
    counter word 3 equal to ``first_index + b``. ``q`` must be (B, T + 1, n_options) when
    ``record_q``. ``n_threads`` < 1 or above :func:`max_threads` means all threads.
    """
    cdef Py_ssize_t b, stride, n_simulations = slots.shape[0]
    cdef double *q_values = line_padded_rows(n_simulations, n_options, &stride)
    cdef int threads = thread_count(n_threads)
    try:
        with nogil:
            for b in prange(n_simulations, schedule="dynamic", chunksize=1,
                            num_threads=threads):
                simulate_one(b, slots, outcomes, options, n_options, q0, drift_map, dt,
                             max_steps, max_retries, key0, key1, first_index, method,
                             &q_values[b * stride], rt, choice, reward, outcome, retries,
                             lapse, q, record_q)
    finally:
        free(q_values)


@cython.boundscheck(False)
@cython.wraparound(False)
def replay_drifts(const double[:, :, ::1] slots, const int8_t[:, ::1] choice,
                  const double[:, ::1] reward, const int32_t[:, :, ::1] options,
                  Py_ssize_t n_options, double q0, int drift_map, double[:, :, ::1] out,
                  int n_threads=0):
    """``out[d, s, t]`` = drift rate of trial ``t`` of data set ``d`` under parameter row ``s``.

    The Q-values (all starting at ``q0``) are replayed from the observed ``choice``
    (D, T; -1 = missed, which changes nothing) and ``reward`` (D, T; NaN = no feedback)
    with the simulator's update, on the options presented (D, T, 2), and each trial's
    drift is computed from the Q-values before it (missed trials included). ``slots`` is
    (D, S, 9) with the columns of :data:`SLOTS`; ``out`` (D, S, T). Data sets run in
    parallel (``n_threads`` as in :func:`simulate_batch`); the result does not depend
    on the thread count.
    """
    cdef Py_ssize_t d, s, t, k, stride
    cdef Py_ssize_t n_sets = slots.shape[0], n_rows = slots.shape[1]
    cdef Py_ssize_t n_trials = choice.shape[1]
    cdef double *q_values = line_padded_rows(n_sets, n_options, &stride)
    cdef double *row
    cdef int chosen
    cdef int threads = thread_count(n_threads)
    try:
        with nogil:
            for d in prange(n_sets, schedule="dynamic", chunksize=1, num_threads=threads):
                row = &q_values[d * stride]
                for s in range(n_rows):
                    for k in range(n_options):
                        row[k] = q0
                    for t in range(n_trials):
                        out[d, s, t] = trial_drift(drift_map, slots[d, s, DRIFT],
                                                   slots[d, s, V_MAX],
                                                   row[options[d, t, 0]] - row[options[d, t, 1]])
                        chosen = choice[d, t]
                        if chosen != MISSED:
                            learn(row, options[d, t, chosen], options[d, t, 1 - chosen],
                                  reward[d, t], slots[d, s, KAPPA_POS], slots[d, s, KAPPA_NEG],
                                  slots[d, s, PHI], q0)
    finally:
        free(q_values)


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
def replay_q_differences(const int8_t[:, :] choice, const double[:, :] reward,
                         const double[::1] learning_rates, double[:, :, ::1] out):
    """``out[b, t, k] = Q0 - Q1`` before trial ``t`` of data set ``b`` at ``learning_rates[k]``.

    The two-option delta rule: Q-values (starting at 0.5) replayed from the observed
    choices and the chosen arm's rewards with the simulator's update (both rates
    ``learning_rates[k]``, no forgetting); a missed trial (choice -1) or a NaN reward
    leaves them unchanged.
    """
    cdef Py_ssize_t b, t, k
    cdef Py_ssize_t n_sets = choice.shape[0], n_trials = choice.shape[1]
    cdef Py_ssize_t n_rates = learning_rates.shape[0]
    cdef double q_values[2]
    cdef double rate
    cdef int chosen
    with nogil:
        for b in range(n_sets):
            for k in range(n_rates):
                rate = learning_rates[k]
                q_values[0] = 0.5
                q_values[1] = 0.5
                for t in range(n_trials):
                    out[b, t, k] = q_values[0] - q_values[1]
                    chosen = choice[b, t]
                    learn(q_values, chosen, 1 - chosen, reward[b, t], rate, rate, 0.0, 0.5)


@cython.boundscheck(False)
@cython.wraparound(False)
def replay_sums(const int8_t[:, ::1] choice, const double[:, ::1] reward,
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
    cdef double x, squared, response_time, outcome, rate
    cdef int chosen
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
                        rate = learning_rates[k]
                        learn(&q_values[2 * k], chosen, 1 - chosen, outcome, rate, rate, 0.0,
                              0.5)
    finally:
        free(q_values)


# ----------------------------------------------------------------------------------
# Exact likelihood: Wiener first-passage log density of answered trials
# ----------------------------------------------------------------------------------

cdef extern from "_wiener_density.h":
    void rlddm_wd_init(double log_eps, double log_2pi, double pi2_half) noexcept nogil
    double rlddm_wiener_log_density(double t, int choice, double v, double a, double w,
                                    int *failed) noexcept nogil
    double rlddm_wiener_log_response_large(double u, double s, double w) noexcept nogil

from numpy import log as _np_log, pi as _np_pi

# The constants of rlddm.likelihood (_LOG_EPS, _LOG_2PI, _PI2_HALF), formed as it forms them.
rlddm_wd_init(_np_log(1e-14), _np_log(2.0 * _np_pi), 0.5 * _np_pi**2)


@cython.boundscheck(False)
@cython.wraparound(False)
def wiener_log_density(const double[::1] t, const int8_t[::1] choice, const double[::1] v,
                       const double[::1] a, const double[::1] w, double[::1] out,
                       int n_threads=1):
    """``out[i] = log f(t[i], choice[i] | v[i], a[i], w[i])``, the Wiener first-passage density.

    choice 0 = upper boundary a, 1 = lower boundary 0; t is the decision time. The
    series of ``rlddm.likelihood._log_density_lower`` (less ``2 log a``), ported term
    by term, each element truncated by the same remainder bounds on its own; ``-inf``
    where t <= 0 or where ``t / a**2`` or ``v * a`` leave the float range. Inputs are
    trusted (0 < w < 1, a > 0, equal lengths). Returns the number of elements whose
    image series did not converge in _MAX_TERMS terms (NaN there; never seen).
    ``n_threads`` (< 1: all OpenMP offers) splits the elements: each is computed alone,
    so the result is the same for any thread count.
    """
    cdef Py_ssize_t i, n = t.shape[0]
    cdef int failed, n_failed = 0
    cdef int threads = thread_count(n_threads) if n >= _PARALLEL_MIN else 1
    for i in prange(n, nogil=True, schedule="static", num_threads=threads):
        failed = 0
        out[i] = rlddm_wiener_log_density(t[i], choice[i], v[i], a[i], w[i], &failed)
        n_failed += failed
    return n_failed


@cython.boundscheck(False)
@cython.wraparound(False)
def wiener_log_response(const double[::1] u, const double[::1] s, const double[::1] w,
                        double[::1] out, int n_threads=1):
    """``out[i] = log P(T < u[i])`` (either boundary, standardised time, scaled drift s).

    ``rlddm.likelihood._log_response_finite(u, s, w, 1 - w)`` where ``u >= 1/2``, ``|s| <=
    1e150`` and ``min(w, 1 - w) >= 1e-10`` (the large-time survival series); NaN elsewhere,
    for the caller to fill. Returns the number of NaN elements. ``n_threads`` as for
    :func:`wiener_log_density`.
    """
    cdef Py_ssize_t i, n = u.shape[0], n_left = 0
    cdef int threads = thread_count(n_threads) if n >= _PARALLEL_MIN else 1
    for i in prange(n, nogil=True, schedule="static", num_threads=threads):
        out[i] = rlddm_wiener_log_response_large(u[i], s[i], w[i])
        if isnan(out[i]):
            n_left += 1
    return n_left
