/* Log density of a Wiener first passage, one element at a time: a term-by-term C port
 * of the NumPy series in likelihood.py (`_log_decision` without its t_max parts:
 * `_log_density_lower(u, *_to_lower(choice, v a, w)) - 2 log a`).
 *
 * The NumPy code is the readable reference and the tests compare the two; every
 * function here names the NumPy function it mirrors, with the same operations in the
 * same order.  One deliberate difference: NumPy truncates each series once for the
 * whole batch (terms until the remainder bound holds at the batch's worst element:
 * largest u and w for the low image series, all elements for the high one, smallest
 * u for the Fourier series); here the same bound is applied to each element alone.
 * Both stop once the omitted remainder is below 1e-14 of the partial sum, so the two
 * agree to that relative truncation error plus rounding (a few 1e-16 in practice).
 *
 * Compile with -ffp-contract=off, as the rest of the kernel. */
#ifndef RLDDM_WIENER_DENSITY_H
#define RLDDM_WIENER_DENSITY_H

#include <float.h>
#include <math.h>

#define RLDDM_WD_PI 3.141592653589793238462643383279502884
#define RLDDM_WD_U_SWITCH 0.5   /* _U_SWITCH */
#define RLDDM_WD_MAX_TERMS 50   /* _MAX_TERMS */
#define RLDDM_WD_TINY DBL_MIN   /* _TINY = np.finfo(float).tiny */

/* Constants as likelihood.py forms them (set once by rlddm_wd_init). */
static double rlddm_wd_log_eps;        /* _LOG_EPS = log(1e-14) */
static double rlddm_wd_low_stop;       /* _LOG_EPS + log(0.5) */
static double rlddm_wd_fourier_stop;   /* _LOG_EPS + log(0.99) */
static double rlddm_wd_log_2pi;        /* _LOG_2PI = log(2 pi) */
static double rlddm_wd_pi2_half;       /* _PI2_HALF = 0.5 pi**2 */
static double rlddm_wd_log_pi;         /* log(pi) */
static double rlddm_wd_eps;            /* exp(_LOG_EPS), for the fast path's linear tests */
/* log(16 j**2) of _log_small_remainder and log(2 j**2) of _n_fourier_terms, j < 2 + _MAX_TERMS
 * (the same values as computed in the loops, formed once). */
#define RLDDM_WD_TABLE (RLDDM_WD_MAX_TERMS + 2)
static double rlddm_wd_log_16jj[RLDDM_WD_TABLE];
static double rlddm_wd_log_2jj[RLDDM_WD_TABLE];

static void rlddm_wd_init(double log_eps, double log_2pi, double pi2_half)
{
    rlddm_wd_log_eps = log_eps;
    rlddm_wd_low_stop = log_eps + log(0.5);
    rlddm_wd_fourier_stop = log_eps + log(0.99);
    rlddm_wd_log_2pi = log_2pi;
    rlddm_wd_pi2_half = pi2_half;
    rlddm_wd_log_pi = log(RLDDM_WD_PI);
    rlddm_wd_eps = exp(log_eps);
    for (int j = 0; j < RLDDM_WD_TABLE; j++) {
        double jd = (double)j;
        rlddm_wd_log_16jj[j] = log(16.0 * jd * jd);
        rlddm_wd_log_2jj[j] = log(2.0 * (jd * jd));
    }
}

/* The one deliberate change of arithmetic: glibc's expm1 is the kernel's slowest call, and
 * below -log 2 (where NumPy's own _log1mexp switches too) exp(x) - 1 lies in (-1, -1/2)
 * and is as accurate (within an ulp).  rlddm_wd_expm1_exp returns expm1(-z) and sets
 * *e = exp(-z) with one exponential there. */
#define RLDDM_WD_LOG2 0.693147180559945309417232121458176568
static inline double rlddm_wd_expm1(double x)
{
    return (x < -RLDDM_WD_LOG2) ? exp(x) - 1.0 : expm1(x);
}

static inline double rlddm_wd_expm1_exp(double z, double *e)
{
    if (z > RLDDM_WD_LOG2) {
        *e = exp(-z);
        return *e - 1.0;
    }
    *e = exp(-z);
    return expm1(-z);
}

/* _log_small_remainder(k, u, w), given log_u = log(u); k + 1 < RLDDM_WD_TABLE. */
static inline double rlddm_wd_small_remainder(int k, double u, double log_u, double w)
{
    double j = (double)(k + 1);
    return rlddm_wd_log_16jj[k + 1] - log_u - 2.0 * j * (j - w) / u;
}

/* _log_pair_ratio(k, u, w) */
static inline double rlddm_wd_pair_ratio(int k, double u, double w)
{
    double kd = (double)k;
    double z = 4.0 * kd * w / u;
    double log_bracket, e, em1 = 0.0;
    if (z < RLDDM_WD_TINY) {
        log_bracket = log1p(8.0 * kd * kd / u - 3.0);
    } else {
        em1 = rlddm_wd_expm1_exp(z, &e);
        log_bracket = log1p((2.0 * kd * -em1 - w * (2.0 + e)) / w);
    }
    if (isinf(log_bracket)) {
        if (z < RLDDM_WD_TINY)
            em1 = expm1(-z);
        log_bracket = log(2.0 * kd * -em1) - log(w);
    }
    return -2.0 * kd * (kd - w) / u + log_bracket;
}

/* _log_fstd_small_low: w <= 1/2, u < 1/2.  The bound falls below the stop within
 * _MAX_TERMS pairs for every u < 1/2 (the NumPy loop has no cap either). */
static inline double rlddm_wd_fstd_small_low(double u, double log_u, double w)
{
    double one_minus = -rlddm_wd_expm1(rlddm_wd_pair_ratio(1, u, w));
    int k = 1;
    while (k + 1 < RLDDM_WD_TABLE
           && rlddm_wd_small_remainder(k, u, log_u, w) > rlddm_wd_low_stop) {
        k += 1;
        one_minus -= exp(rlddm_wd_pair_ratio(k, u, w));
    }
    return log(w) - w * w / (2.0 * u) + log(one_minus);
}

/* _log_upper_bracket(m, u, gap) */
static inline double rlddm_wd_upper_bracket(int m, double u, double gap)
{
    double md = (double)m;
    double x = 2.0 * md * gap / u;
    if (x < RLDDM_WD_TINY) {
        return log(gap) + log(2.0 * md * md / u - 2.0);
    }
    double e, em1 = rlddm_wd_expm1_exp(x, &e);
    return log(md * -em1 - gap * (1.0 + e));
}

/* _log_fstd_small_high: w > 1/2, u < 1/2.  Sets *failed if the series does not
 * converge in _MAX_TERMS pairs (NumPy raises RuntimeError there). */
static inline double rlddm_wd_fstd_small_high(double u, double w, double gap, int *failed)
{
    double log_first = rlddm_wd_upper_bracket(1, u, gap);
    double acc = 1.0;
    for (int m = 3; m < 2 * RLDDM_WD_MAX_TERMS; m += 2) {
        double md = (double)m;
        double log_ratio_exp = -(double)(m - 1) * (md + 1.0 - 2.0 * gap) / (2.0 * u);
        double x = 2.0 * md * gap / u;
        double log_bound = log(2.0 * md * fmin(1.0, x)) + log_ratio_exp - log_first;
        if (log_bound <= rlddm_wd_log_eps) {
            return -w * w / (2.0 * u) + log_first + log(acc);
        }
        acc += exp(rlddm_wd_upper_bracket(m, u, gap) - log_first + log_ratio_exp);
    }
    *failed = 1;
    return NAN;
}

/* _log_fstd_small */
static inline double rlddm_wd_fstd_small(double u, double w, double gap, int *failed)
{
    double log_u = log(u);
    double log_f = (w > 0.5) ? rlddm_wd_fstd_small_high(u, w, gap, failed)
                             : rlddm_wd_fstd_small_low(u, log_u, w);
    return log_f - 0.5 * rlddm_wd_log_2pi - 1.5 * log_u;
}

/* _n_fourier_terms(u) */
static inline int rlddm_wd_n_fourier_terms(double u)
{
    int k = 1;
    /* u >= 1/2 needs k = 3; the table cap is never reached. */
    while (k + 1 < RLDDM_WD_TABLE) {
        double sq_minus_1 = (double)((k + 1) * (k + 1) - 1);
        if (!(rlddm_wd_log_2jj[k + 1] - sq_minus_1 * rlddm_wd_pi2_half * u > rlddm_wd_fourier_stop))
            return k;
        k += 1;
    }
    return k;
}

/* _log_fstd_large: _fourier_sum with coef(k) = 1. */
static inline double rlddm_wd_fstd_large(double u, double w, double gap)
{
    double cos_pw = cos(RLDDM_WD_PI * w);
    double smaller = fmin(w, gap);
    double log_lead;
    if (RLDDM_WD_PI * smaller < RLDDM_WD_TINY) {
        log_lead = rlddm_wd_log_pi + log(smaller) - rlddm_wd_pi2_half * u;
    } else {
        log_lead = log(sin(RLDDM_WD_PI * smaller)) - rlddm_wd_pi2_half * u;
    }
    double acc = 1.0;
    double cheb_prev = 1.0, cheb = 2.0 * cos_pw;  /* U_0, U_1 */
    int n_terms = rlddm_wd_n_fourier_terms(u);
    for (int k = 2; k <= n_terms; k++) {
        double kd = (double)k;
        acc += kd * cheb * 1.0 * exp(-(double)(k * k - 1) * rlddm_wd_pi2_half * u);
        double next = 2.0 * cos_pw * cheb - cheb_prev;
        cheb_prev = cheb;
        cheb = next;
    }
    return rlddm_wd_log_pi + log_lead + log(acc);
}

/* _log_density_lower(u, s, w, gap) */
static inline double rlddm_wd_density_lower(double u, double s, double w, double gap,
                                            int *failed)
{
    double log_fstd = (u < RLDDM_WD_U_SWITCH) ? rlddm_wd_fstd_small(u, w, gap, failed)
                                              : rlddm_wd_fstd_large(u, w, gap);
    return log_fstd - s * w - 0.5 * s * s * u;
}

/* Fast path of the small-time series (u < 1/2: ~94 % of the trials of a real fit).
 *
 * The same series, terms and truncation rules as rlddm_wd_fstd_small (the stopping
 * tests of _log_fstd_small_low exactly, those of _log_fstd_small_high compared in
 * linear rather than log space), but each image pair is formed in linear space --
 * exp(-2k(k - w)/u) times its bracket instead of exp of the sum of their logs -- and
 * the logs of the result are taken once, log(w (1 - pairs) / a**2) rather than
 * log(w) + log(1 - pairs) - 2 log(a): some 5 calls of exp/log per trial instead of
 * 10, the kernel's cost being almost all libm.  This only holds away from the float
 * range's ends, so it serves 1e-3 <= u < 1/2, w and 1 - w >= 1e-10 and
 * 1e-100 <= a <= 1e100 (brackets and ratios then neither overflow nor underflow to
 * subnormals where they matter); everything else takes the term-by-term port.  The two
 * differ by rounding only (at most a few 1e-16 relative, see tests/test_wiener_kernel.py).
 * Returns 0 (and leaves *out) if the high series does not converge, for the port to
 * report. */

static inline int rlddm_wd_fast_ok(double u, double w, double gap, double a)
{
    return u >= 1e-3 && u < RLDDM_WD_U_SWITCH && w >= 1e-10 && gap >= 1e-10
           && a >= 1e-100 && a <= 1e100;
}

static inline int rlddm_wd_fast_small(double u, double s, double w, double gap, double a,
                                      double *out)
{
    double log_u = log(u);
    double num;
    if (w > 0.5) {
        /* _log_fstd_small_high: pairs around the upper boundary's copies. */
        double e, em1 = rlddm_wd_expm1_exp(2.0 * gap / u, &e);
        double first = 1.0 * -em1 - gap * (1.0 + e);
        double acc = 1.0;
        int m, done = 0;
        for (m = 3; m < 2 * RLDDM_WD_MAX_TERMS; m += 2) {
            double md = (double)m;
            double ratio_exp = exp(-(double)(m - 1) * (md + 1.0 - 2.0 * gap) / (2.0 * u));
            double x = 2.0 * md * gap / u;
            if (2.0 * md * fmin(1.0, x) * ratio_exp <= rlddm_wd_eps * first) {
                done = 1;
                break;
            }
            em1 = rlddm_wd_expm1_exp(x, &e);
            acc += (md * -em1 - gap * (1.0 + e)) / first * ratio_exp;
        }
        if (!done)
            return 0;
        num = first * acc;
    } else {
        /* _log_fstd_small_low: the image at w minus pairs around the lower boundary's copies. */
        double one_minus = 1.0;
        int k = 1;
        for (;;) {
            double kd = (double)k;
            double e, em1 = rlddm_wd_expm1_exp(4.0 * kd * w / u, &e);
            double bracket = (2.0 * kd * -em1 - w * (1.0 + e)) / w;
            one_minus -= exp(-2.0 * kd * (kd - w) / u) * bracket;
            if (!(k + 1 < RLDDM_WD_TABLE
                  && rlddm_wd_small_remainder(k, u, log_u, w) > rlddm_wd_low_stop))
                break;
            k += 1;
        }
        num = w * one_minus;
    }
    *out = -w * w / (2.0 * u) + log(num / (a * a)) - 0.5 * rlddm_wd_log_2pi - 1.5 * log_u
           - s * w - 0.5 * s * s * u;
    return 1;
}

/* One answered trial: log f(t, choice | v, a, w) in real time, as _log_decision
 * computes it before subtracting log P(T < t_max): -inf where t <= 0, or where u or
 * v a leave the float range (the density is 0 in the limit there too). */
static inline double rlddm_wiener_log_density(double t, int choice, double v, double a,
                                              double w, int *failed)
{
    double u = t / (a * a);
    double s = v * a;
    if (!(t > 0.0) || !isfinite(s) || !(u > 0.0) || !isfinite(u))
        return -INFINITY;
    double gap = 1.0 - w;
    double fast;
    if (choice == 0) {
        if (rlddm_wd_fast_ok(u, gap, w, a) && rlddm_wd_fast_small(u, -s, gap, w, a, &fast))
            return fast;
    } else if (rlddm_wd_fast_ok(u, w, gap, a) && rlddm_wd_fast_small(u, s, w, gap, a, &fast)) {
        return fast;
    }
    double log_density = (choice == 0) ? rlddm_wd_density_lower(u, -s, gap, w, failed)
                                       : rlddm_wd_density_lower(u, s, w, gap, failed);
    return log_density - 2.0 * log(a);
}

/* log P(T < u) in standardised time, both boundaries: `_log_response_finite(u, s, w, 1 - w)`
 * for u >= _U_SWITCH, where it is log(1 - survival) with the survival series of
 * `_log_survival_large` (the normaliser of every trial density: u = t_max / a**2).
 *
 * The same series, truncation (_n_fourier_terms) and Chebyshev recurrence, with the
 * factors of the survival multiplied in linear space rather than added as logs,
 *     S = 2 pi exp(s (1/2 - w) + |s|/2 - s**2 u / 2 - pi**2 u / 2) (1 + exp(-|s|))
 *         sin(pi min(w, 1 - w)) acc / (s**2 + pi**2),
 * and tanh(s/2) from the same expm1(-|s|): 4 to 6 libm calls instead of 11.  For u >= 1/2
 * the survival is below 0.11, so log1p(-S) is well conditioned.  Serves |s| <= 1e150
 * (no cap on s**2 is needed there) and min(w, 1 - w) >= 1e-10; returns NaN elsewhere
 * (u < 1/2 included), where the caller takes the NumPy series. */
static inline double rlddm_wiener_log_response_large(double u, double s, double w)
{
    double gap = 1.0 - w;
    double smaller = fmin(w, gap);
    if (!(u >= RLDDM_WD_U_SWITCH) || !isfinite(u) || !(fabs(s) <= 1e150)
        || !(smaller >= 1e-10))
        return NAN;
    double pi2 = RLDDM_WD_PI * RLDDM_WD_PI;
    double s2 = s * s;
    double abs_s = fabs(s);
    double em = expm1(-abs_s);                 /* exp(-|s|) - 1 */
    double tanh_half = -em / (2.0 + em);       /* tanh(|s| / 2) */
    double minus_tanh = (s > 0.0) ? -tanh_half : tanh_half;
    double acc = 1.0;
    int n_terms = rlddm_wd_n_fourier_terms(u);
    if (n_terms >= 2) {
        double cos_pw = cos(RLDDM_WD_PI * w);
        double cheb_prev = 1.0, cheb = 2.0 * cos_pw;  /* U_0, U_1 */
        for (int k = 2; k <= n_terms; k++) {
            double kd = (double)k;
            double kpi = kd * RLDDM_WD_PI;
            double ratio = (s2 + pi2) / (s2 + kpi * kpi);
            double coef = (k % 2) ? ratio : minus_tanh * ratio;
            acc += kd * cheb * coef * exp(-(double)(k * k - 1) * rlddm_wd_pi2_half * u);
            double next = 2.0 * cos_pw * cheb - cheb_prev;
            cheb_prev = cheb;
            cheb = next;
        }
    }
    double survival = exp(s * (0.5 - w) + 0.5 * abs_s - 0.5 * s2 * u - rlddm_wd_pi2_half * u)
                      * (2.0 + em) * (2.0 * RLDDM_WD_PI * sin(RLDDM_WD_PI * smaller) / (s2 + pi2))
                      * acc;
    if (!(survival < 0.5))
        return NAN;
    return fmin(log1p(-survival), 0.0);
}

#endif
