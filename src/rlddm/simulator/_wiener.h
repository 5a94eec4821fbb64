/* Exact (discretisation-free) first passage of a Wiener diffusion through 0 or a,
 * drawn on a NumPy bitgen_t stream; mirrored draw for draw by _wiener_reference.py.
 *
 * Model: dX = v dt + dW, X(0) = a w, absorbed at 0 (lower) and a (upper).
 *
 * Algorithm.  Rescale to unit width: tau = t / a^2, nu = v a, start x0 = w.
 *  1. Boundary from its exact probability,
 *         P(upper) = (1 - exp(-2 nu w)) / (1 - exp(-2 nu))          (nu != 0; w if 0).
 *  2. Passage time given the boundary.  Let x be the distance from the start to
 *     the chosen boundary (w for lower, 1 - w for upper; the upper case is the
 *     lower one of the mirrored process with drift -nu).  Navarro & Fuss (2009,
 *     J. Math. Psych. 53:222) give the joint density
 *         g(tau) = exp(-nu' x - nu^2 tau / 2) f0(tau; x),
 *     nu' the drift away from the boundary and f0 the zero-drift density, with
 *         small-time form  f0 = (2 pi tau^3)^(-1/2) sum_k (x + 2k) e^{-(x+2k)^2/(2 tau)},
 *         large-time form  f0 = pi sum_{k>=1} k sin(k pi x) e^{-k^2 pi^2 tau / 2}.
 *     f0 never exceeds the one-boundary (Levy) density levy(tau; x), its k = 0
 *     term, because a path that first leaves (0, 1) through 0 at tau also first
 *     reaches 0 at tau.  So g <= exp(-nu' x - |nu| x) IG(tau; x / |nu|, x^2):
 *     propose tau from that inverse Gaussian (the one-boundary passage time,
 *     drawn after Michael, Schucany & Haas 1976) and accept it with probability
 *     f0(tau; x) / levy(tau; x) -- the drift cancels from this ratio.  The
 *     acceptance test uses Devroye's series method (Non-Uniform Random Variate
 *     Generation, 1986, sec. IV.5): partial sums of the series bracket the ratio
 *     and terms are added only until the uniform falls outside the bracket.
 *     Drugowitsch (2016, Sci. Rep. 6:20490) samples the symmetric-boundary case
 *     the same way, by rejection from the known first-passage densities with a
 *     series-based test; conditioning on the boundary first lets an asymmetric
 *     start point be drawn in one pass, with no iteration over sub-intervals.
 *
 * Accuracy.  Exact: the accept decision is taken only when a rigorous bound on
 * the truncated series separates the uniform from the true ratio, so the
 * samples follow the continuous-time law up to floating-point rounding (~1e-16
 * relative in each bound).  Bounds: for tau <= RLDDM_WIENER_TAU_SWITCH the
 * small-time series divided by its first term alternates and decreases from its
 * second term (tau <= 1 < (2 - x)^2), so consecutive partial sums bracket it;
 * otherwise sum_{k>K} k e^{-k^2 h} <= e^{-(K+1)^2 h} (K + 1 + 1/(2h)), h = pi^2 tau / 2,
 * as k e^{-k^2 h} decreases in k >= 1 once h > 1/2.
 *
 * Cost and bounded loops.  The expected number of proposals is
 * exp(-nu' x - |nu| x) / P(boundary), averaging 1 + exp(-2 |nu| d) <= 2 over the
 * two boundaries (d the start's distance from the boundary the drift points
 * away from), and at most max(1/w, 1/(1-w)) for one boundary.  The test
 * usually stops after one series term.  Fallbacks, never reached in practice:
 * after RLDDM_WIENER_MAX_TERMS terms the test compares with the last partial
 * sum (the terms left out are below e^{-1600}, zero in double precision); after
 * RLDDM_WIENER_MAX_PROPOSALS rejected proposals the last proposal is returned
 * (probability < (1 - 1/100)^100000 < 1e-436 for w in [0.01, 0.99]).
 *
 * Draws per trial: one uniform (boundary), then per proposal one standard
 * normal, one uniform when v != 0 (the inverse-Gaussian root), one uniform
 * (the test).  Compile with -ffp-contract=off so rounding matches the mirror. */
#ifndef RLDDM_WIENER_H
#define RLDDM_WIENER_H

#include <math.h>
#include "numpy/random/distributions.h"

/* The draws go through NumPy's samplers on the bitgen_t by default.  A kernel
 * that has inline samplers of the same stream (same numbers, fewer indirect
 * calls) may define these two macros before including this header. */
#ifndef RLDDM_WIENER_NORMAL
#define RLDDM_WIENER_NORMAL(rng) random_standard_normal(rng)
#endif
#ifndef RLDDM_WIENER_UNIFORM
#define RLDDM_WIENER_UNIFORM(rng) next_double(rng)
#endif

#define RLDDM_WIENER_TAU_SWITCH 0.5
#define RLDDM_WIENER_MAX_TERMS 40
#define RLDDM_WIENER_MAX_PROPOSALS 100000
#define RLDDM_WIENER_SQRT_2PI 2.50662827463100050242
#define RLDDM_WIENER_HALF_PI_SQ 4.93480220054467930942

/* Is u < f0(tau; x) / levy(tau; x)?  Decided on rigorous series bounds. */
static inline int wiener_accept(double u, double tau, double x)
{
    int j, k, k1;
    double r, c, s, target, h, inv_2h, e, e_next, levy, bound;

    if (tau <= RLDDM_WIENER_TAU_SWITCH) {
        /* Small-time series over its first term: 1 - c1 + c2 - ..., with
         * c_j = (r_j / x) e^{-(r_j^2 - x^2) / (2 tau)}, r_j = 2-x, 2+x, 4-x, ... */
        s = 1.0;
        for (j = 1; j <= RLDDM_WIENER_MAX_TERMS; j++) {
            r = (j % 2 == 0) ? j + x : j + 1 - x;
            c = r / x * exp(-(r * r - x * x) / (2.0 * tau));
            if (j % 2 == 1) {
                s -= c;
                if (u < s) {
                    return 1;
                }
            } else {
                s += c;
                if (u >= s) {
                    return 0;
                }
            }
        }
        return u < s;
    }
    /* Large-time series against u * levy(tau; x), bracketed by its tail bound.
     * Most proposals here are far-tail ones that fail already against
     * |sin| <= 1 and e^{-z} >= 1 - z, so that cheaper test comes first. */
    h = RLDDM_WIENER_HALF_PI_SQ * tau;
    inv_2h = 0.5 / h;
    e = exp(-h);
    e_next = (e * e) * (e * e);
    levy = x / (RLDDM_WIENER_SQRT_2PI * tau * sqrt(tau));
    if (u * (levy * (1.0 - x * x / (2.0 * tau))) >= M_PI * (e + e_next * (2.0 + inv_2h))) {
        return 0;
    }
    target = u * (levy * exp(-x * x / (2.0 * tau)));
    s = 0.0;
    for (k = 1; k <= RLDDM_WIENER_MAX_TERMS; k++) {
        s += k * sin(k * M_PI * x) * e;
        k1 = k + 1;
        if (k > 1) {
            e_next = exp(-(k1 * k1) * h);
        }
        bound = e_next * (k1 + inv_2h);
        if (target < M_PI * (s - bound)) {
            return 1;
        }
        if (target >= M_PI * (s + bound)) {
            return 0;
        }
        e = e_next;
    }
    return target < M_PI * s;
}

/* Normalised (unit-width) passage time through the boundary at distance x,
 * given that the walk leaves there; anu = |v a|. */
static inline double wiener_conditional_time(bitgen_t *rng, double anu, double x)
{
    double lam = x * x;
    double k = x * anu;
    double tau = INFINITY;
    double y, den, mu;
    int n;

    for (n = 0; n < RLDDM_WIENER_MAX_PROPOSALS; n++) {
        /* Inverse-Gaussian proposal IG(x / anu, x^2), the smaller root written
         * without cancellation so that anu = 0 gives the Levy law x^2 / N^2. */
        y = RLDDM_WIENER_NORMAL(rng);
        y = y * y;
        den = y + 2.0 * k + sqrt(y * y + 4.0 * k * y);
        tau = den > 0.0 ? 2.0 * lam / den : INFINITY;
        if (anu > 0.0) {
            mu = x / anu;
            if (RLDDM_WIENER_UNIFORM(rng) * (mu + tau) > mu) {
                tau = mu * mu / tau;
            }
        }
        if (wiener_accept(RLDDM_WIENER_UNIFORM(rng), tau, x)) {
            return tau;
        }
    }
    return tau;
}

/* Exact first passage of dX = v dt + dW from a w through 0 or a.  Returns the
 * decision time and sets *upper to 1 for the boundary a (choice 0), 0 for the
 * boundary 0 (choice 1).  Trusts v finite, a > 0, 0 < w < 1. */
static inline double wiener_first_passage(bitgen_t *rng, double v, double a, double w,
                                          int *upper)
{
    double nu = v * a;
    double p_upper, x;

    /* expm1 of a negative argument never overflows and keeps small drifts exact. */
    if (nu > 0.0) {
        p_upper = expm1(-2.0 * nu * w) / expm1(-2.0 * nu);
    } else if (nu < 0.0) {
        p_upper = 1.0 - expm1(2.0 * nu * (1.0 - w)) / expm1(2.0 * nu);
    } else {
        p_upper = w;
    }
    if (RLDDM_WIENER_UNIFORM(rng) < p_upper) {
        *upper = 1;
        x = 1.0 - w;
    } else {
        *upper = 0;
        x = w;
    }
    return a * a * wiener_conditional_time(rng, fabs(nu), x);
}

#endif /* RLDDM_WIENER_H */
