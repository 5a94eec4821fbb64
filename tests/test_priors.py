"""Tests of rlddm.priors: moments, densities, the map to unbounded space, serialisation, errors."""

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

from rlddm.model import MODELS, get_model
from rlddm.parameters import PARAMETER_NAMES
from rlddm.priors import DEFAULT_PRIORS, Prior, Priors

N_MOMENTS = 200_000
# |z| above 5 has probability 6e-7 under a correct prior: the moment tests do not flake.
Z_LIMIT = 5.0


def truncated_normal_moments(loc, scale, lower, upper):
    """Mean and variance of a truncated normal from the textbook formulas (not scipy.stats)."""
    a, b = (lower - loc) / scale, (upper - loc) / scale
    phi = lambda x: math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    mass = Phi(b) - Phi(a)
    ratio = (phi(a) - phi(b)) / mass
    mean = loc + scale * ratio
    var = scale**2 * (1 + (a * phi(a) - b * phi(b)) / mass - ratio**2)
    return mean, var


# The forum post's priors: drift N(0, 2); alpha N(1, .5) on [0, 5]; beta Beta(2, 2);
# ter N(.5, .25) on [0, 1.5]; kappa Beta(2, 2) (mean 1/2, variance 1/20).
ANALYTIC = {
    "drift": (0.0, 4.0),
    "alpha": truncated_normal_moments(1.0, 0.5, 0.0, 5.0),
    "beta": (0.5, 0.05),
    "ter": truncated_normal_moments(0.5, 0.25, 0.0, 1.5),
    "kappa": (0.5, 0.05),
}


def moment_z_scores(draws, mean, var):
    """z-scores of the sample mean and variance against analytic values.

    The variance's standard error uses var * sqrt(2 / n), exact for a normal and
    conservative for these priors (truncation and Beta(2, 2) lower the kurtosis).
    """
    n = draws.size
    z_mean = (draws.mean() - mean) / math.sqrt(var / n)
    z_var = (draws.var(ddof=1) - var) / (var * math.sqrt(2 / n))
    return z_mean, z_var


@pytest.fixture(scope="module")
def default_draws():
    return DEFAULT_PRIORS.sample(N_MOMENTS, seed=20240601)


def test_names_follow_parameter_table():
    assert DEFAULT_PRIORS.names == PARAMETER_NAMES
    assert len(DEFAULT_PRIORS) == 5
    assert list(DEFAULT_PRIORS) == list(PARAMETER_NAMES)


def test_the_default_models_priors_are_the_default_priors():
    """The sampler and reference runs take the model's priors: for ``rlddm`` the very
    same draws as before models were added."""
    priors = get_model("rlddm").priors()
    assert priors == DEFAULT_PRIORS
    np.testing.assert_array_equal(priors.sample(100, seed=3), DEFAULT_PRIORS.sample(100, seed=3))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_models_priors_map_into_its_support(name):
    """What the sampler relies on in every dimension: draws, their unbounded images and
    back lie in the model's support, and the unbounded density is finite there."""
    spec = get_model(name, free=("p_outlier",))
    priors = spec.priors()
    theta = priors.sample(2000, seed=4)
    z = priors.to_unbounded(theta)
    assert z.shape == (2000, spec.n_free) and np.all(np.isfinite(z))
    np.testing.assert_allclose(priors.from_unbounded(z), theta, rtol=1e-9, atol=1e-12)
    assert np.all(spec.in_support(priors.from_unbounded(z)))
    assert np.all(np.isfinite(priors.log_prob_unbounded(z)))


def test_default_priors_are_the_posts():
    assert str(DEFAULT_PRIORS["drift"]) == "N(0, 2)"
    assert str(DEFAULT_PRIORS["alpha"]) == "N(1, 0.5) truncated to [0, 5]"
    assert str(DEFAULT_PRIORS["beta"]) == "Beta(2, 2)"
    assert str(DEFAULT_PRIORS["ter"]) == "N(0.5, 0.25) truncated to [0, 1.5]"
    assert str(DEFAULT_PRIORS["kappa"]) == "Beta(2, 2)"


@pytest.mark.statistical
@pytest.mark.parametrize("name", PARAMETER_NAMES)
def test_sample_moments_match_analytic(default_draws, name):
    column = default_draws[:, PARAMETER_NAMES.index(name)]
    mean, var = ANALYTIC[name]
    z_mean, z_var = moment_z_scores(column, mean, var)
    assert abs(z_mean) < Z_LIMIT, f"{name}: mean z = {z_mean:.2f}"
    assert abs(z_var) < Z_LIMIT, f"{name}: variance z = {z_var:.2f}"
    assert DEFAULT_PRIORS[name].mean == pytest.approx(mean, abs=1e-12)
    assert DEFAULT_PRIORS[name].std == pytest.approx(math.sqrt(var), rel=1e-9)


@pytest.mark.statistical
def test_moment_test_catches_a_shifted_prior(default_draws):
    # Negative control: a mean off by 0.02 prior sd (z about 9 here) is caught by the same test.
    column = default_draws[:, PARAMETER_NAMES.index("ter")]
    mean, var = ANALYTIC["ter"]
    z_mean, _ = moment_z_scores(column, mean + 0.02 * math.sqrt(var), var)
    assert abs(z_mean) > Z_LIMIT


def test_samples_lie_in_supports(default_draws):
    assert np.all(default_draws >= DEFAULT_PRIORS.lower)
    assert np.all(default_draws <= DEFAULT_PRIORS.upper)
    assert np.all(np.isfinite(DEFAULT_PRIORS.log_prob(default_draws)))


def test_sample_seeding():
    a = DEFAULT_PRIORS.sample(10, seed=3)
    b = DEFAULT_PRIORS.sample(10, seed=np.random.SeedSequence(3))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(3)
    first, second = DEFAULT_PRIORS.sample(10, seed=rng), DEFAULT_PRIORS.sample(10, seed=rng)
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)
    assert a.shape == (10, 5) and a.dtype == np.float64


CUSTOM = {
    "positive": Prior.normal(0.0, 2.0, lower=0.0),
    "below": Prior.normal(0.0, 2.0, upper=0.5),
    "interval": Prior.normal(1.0, 0.5, lower=0.0, upper=5.0),
    "free": Prior.normal(0.0, 2.0),
    "beta": Prior.beta(2.0, 3.0, lower=0.1, upper=0.9),
    "uniform": Prior.uniform(-1.0, 2.0),
}


@pytest.mark.parametrize("key", sorted(CUSTOM))
def test_log_density_integrates_to_one(key):
    prior = CUSTOM[key]
    value, _ = integrate.quad(lambda x: math.exp(prior.log_prob(x)), prior.lower, prior.upper)
    assert value == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("key", sorted(CUSTOM))
def test_unbounded_density_integrates_to_one(key):
    prior = CUSTOM[key]

    def density(z):
        return math.exp(prior.log_prob(prior.from_unbounded(z)) + prior.log_abs_det_jacobian(z))

    value, _ = integrate.quad(density, -np.inf, np.inf, limit=200)
    assert value == pytest.approx(1.0, abs=1e-6)


def test_log_density_matches_scipy():
    theta = DEFAULT_PRIORS.sample(50, seed=5)
    expected = (
        stats.norm(0, 2).logpdf(theta[:, 0])
        + stats.truncnorm(-2, 8, loc=1, scale=0.5).logpdf(theta[:, 1])
        + stats.beta(2, 2).logpdf(theta[:, 2])
        + stats.truncnorm(-2, 4, loc=0.5, scale=0.25).logpdf(theta[:, 3])
        + stats.beta(2, 2).logpdf(theta[:, 4])
    )
    np.testing.assert_allclose(DEFAULT_PRIORS.log_prob(theta), expected, rtol=1e-12)
    np.testing.assert_allclose(DEFAULT_PRIORS.log_prob(theta.reshape(5, 10, 5)),
                               expected.reshape(5, 10), rtol=1e-12)


def test_log_density_is_minus_infinity_outside_support():
    theta = np.array([[0.0, 6.0, 0.5, 0.5, 0.5],
                      [0.0, 1.0, 0.5, -0.1, 0.5],
                      [0.0, 1.0, 0.5, 0.5, 1.5]])
    assert np.all(DEFAULT_PRIORS.log_prob(theta) == -np.inf)


@pytest.mark.parametrize("key", sorted(CUSTOM))
def test_bijection_round_trip(key):
    prior = CUSTOM[key]
    x = prior.sample(1000, np.random.default_rng(7))
    np.testing.assert_allclose(prior.from_unbounded(prior.to_unbounded(x)), x,
                               rtol=1e-12, atol=1e-12)
    z = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(prior.to_unbounded(prior.from_unbounded(z)), z, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("key", sorted(CUSTOM))
def test_log_jacobian_matches_finite_difference(key):
    prior = CUSTOM[key]
    z = np.linspace(-6, 6, 49)
    h = 1e-5
    slope = (prior.from_unbounded(z + h) - prior.from_unbounded(z - h)) / (2 * h)
    # central differences are accurate to O(h^2) relative to the curvature: 1e-6 is ample
    np.testing.assert_allclose(prior.log_abs_det_jacobian(z), np.log(np.abs(slope)), atol=1e-6)


def test_table_bijection_and_density():
    theta = DEFAULT_PRIORS.sample(200, seed=11)
    z = DEFAULT_PRIORS.to_unbounded(theta)
    assert z.shape == theta.shape and np.all(np.isfinite(z))
    np.testing.assert_allclose(DEFAULT_PRIORS.from_unbounded(z), theta, rtol=1e-12, atol=1e-12)
    # drift is unbounded: identity
    np.testing.assert_array_equal(z[:, 0], theta[:, 0])
    expected = sum(DEFAULT_PRIORS[name].log_abs_det_jacobian(z[:, i])
                   for i, name in enumerate(PARAMETER_NAMES))
    np.testing.assert_allclose(DEFAULT_PRIORS.log_abs_det_jacobian(z), expected)
    np.testing.assert_allclose(DEFAULT_PRIORS.log_prob_unbounded(z),
                               DEFAULT_PRIORS.log_prob(theta) + expected)


def test_interval_map_is_a_scaled_logit():
    z = DEFAULT_PRIORS["alpha"].to_unbounded(np.array([1.0, 2.5, 4.0]))
    np.testing.assert_allclose(z, np.log([0.2 / 0.8, 1.0, 0.8 / 0.2]))


def test_positive_drift_prior():
    priors = DEFAULT_PRIORS.replace(drift=Prior.normal(0.0, 2.0, lower=0.0))
    theta = priors.sample(1000, seed=2)
    assert np.all(theta[:, 0] >= 0)
    np.testing.assert_array_equal(theta[:, 1:] >= 0, True)
    assert priors.log_prob([-0.1, 1.0, 0.5, 0.5, 0.5]) == -np.inf
    # half-normal: log density at 0 is log(2) above the untruncated normal's
    half_normal_at_0 = stats.norm(0, 2).logpdf(0.0) + math.log(2)
    assert priors["drift"].log_prob(0.0) == pytest.approx(half_normal_at_0)
    assert DEFAULT_PRIORS["drift"] == Prior.normal(0.0, 2.0)


@pytest.mark.parametrize("priors", [DEFAULT_PRIORS,
                                    DEFAULT_PRIORS.replace(drift=Prior.normal(0.0, 2.0, lower=0.0),
                                                           kappa=Prior.uniform(0.0, 1.0))])
def test_serialisation_round_trip(priors):
    text = json.dumps(priors.to_dict(), allow_nan=False)
    restored = Priors.from_dict(json.loads(text))
    assert restored == priors
    np.testing.assert_array_equal(restored.sample(5, seed=1), priors.sample(5, seed=1))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Prior("gamma", (1.0, 1.0)), "family must be one of"),
        (lambda: Prior.normal(0.0, 0.0), "scale must be > 0, got 0.0"),
        (lambda: Prior.normal(0.0, np.nan), "the normal prior.s scale must be a finite number"),
        (lambda: Prior("normal", (0.0,)), "takes 2 arguments"),
        (lambda: Prior.beta(0.0, 2.0), "must be > 0, got"),
        (lambda: Prior.beta(2.0, 2.0, lower=1.0, upper=1.0), "lower must be < upper"),
        (lambda: Prior.uniform(0.0, np.inf), "needs finite bounds"),
        (lambda: Prior.normal(0.0, 1.0, lower=50.0, upper=51.0), "no probability mass"),
    ],
)
def test_bad_prior_raises(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Priors({"drift": Prior.normal(0.0, 1.0)}), r"missing \['alpha'"),
        (lambda: DEFAULT_PRIORS.replace(eta=Prior.normal(0.0, 1.0)), r"unknown \['eta'\]"),
        (lambda: DEFAULT_PRIORS.replace(alpha=Prior.normal(1.0, 0.5)), "alpha has support"),
        (lambda: DEFAULT_PRIORS.replace(kappa=Prior.uniform(0.0, 2.0)), "kappa has support"),
        (lambda: DEFAULT_PRIORS.replace(beta=0.5), r"priors\['beta'\] must be a Prior"),
        (lambda: Priors([1, 2]), "must be a mapping"),
        (lambda: Priors.from_dict({**DEFAULT_PRIORS.to_dict(), "beta": {"family": "beta", "a": 2}}),
         r"missing \['b'\]"),
        (lambda: Prior.from_dict({"loc": 0.0}), "'family' key"),
    ],
)
def test_bad_table_raises(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: DEFAULT_PRIORS.sample(0), "n must be an integer >= 1, got 0"),
        (lambda: DEFAULT_PRIORS.sample(2.5), "n must be an integer >= 1, got 2.5"),
        (lambda: DEFAULT_PRIORS.log_prob(np.zeros((3, 4))),
         r"shape \(\.\.\., 5\).*got shape \(3, 4\)"),
        (lambda: DEFAULT_PRIORS.to_unbounded(1.0), r"got shape \(\)"),
        (lambda: DEFAULT_PRIORS.from_unbounded([0, 0, np.nan, 0, 0]),
         r"z: beta must be finite, got nan at index \(2,\)"),
        (lambda: DEFAULT_PRIORS.log_prob([0, 0, np.nan, 0, 0]),
         r"theta: beta must not be NaN, got nan at index \(2,\)"),
        (lambda: DEFAULT_PRIORS.to_unbounded([0, 0, 1.5, 0, 0]),
         r"theta: beta must lie in its prior's support \[0, 1\], got 1.5 at index \(2,\)"),
    ],
)
def test_bad_values_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unknown_name_lookup():
    with pytest.raises(KeyError, match="eta"):
        DEFAULT_PRIORS["eta"]


@pytest.mark.statistical
@pytest.mark.parametrize("prior", [
    Prior.normal(0.0, 2.0, lower=0.0),               # rejection, half the mass kept
    Prior.normal(1.0, 0.5, lower=0.0, upper=5.0),    # rejection, the post's alpha
    Prior.normal(0.0, 1.0, lower=2.0, upper=4.0),    # 2% of the mass: SciPy's sampler
    Prior.beta(2.0, 5.0, lower=-1.0, upper=3.0),
    Prior.uniform(-2.0, 0.5),
], ids=["half-normal", "alpha", "tail", "stretched-beta", "uniform"])
def test_each_sampler_draws_its_distribution(prior):
    """KS against the SciPy distribution on 20,000 draws (p < 1e-4 would fail).

    At this size a location error of 0.05 prior SD gives D about 0.02 (p < 1e-7)."""
    draws = prior.sample(20_000, np.random.default_rng(5))
    assert draws.shape == (20_000,) and draws.dtype == np.float64
    assert stats.kstest(draws, prior._dist.cdf).pvalue > 1e-4
    shifted = draws + 0.05 * prior.std
    assert stats.kstest(shifted, prior._dist.cdf).pvalue < 1e-4  # negative control


# ---------------------------------------------------------------------------------------
# closed-form log-densities against SciPy's distributions

CLOSED_FORM_CASES = [
    Prior.normal(0.0, 2.0),
    Prior.normal(1.0, 0.5, lower=0.0, upper=5.0),
    Prior.normal(0.5, 0.25, lower=0.0, upper=1.5),
    Prior.normal(0.0, 1.0, lower=0.0),
    Prior.normal(0.0, 1.0, upper=-3.0),
    Prior.normal(0.0, 1.0, lower=8.0, upper=9.0),  # far right tail: mass 6e-16
    Prior.normal(0.0, 1.0, lower=-30.0, upper=-29.0),  # far left tail
    Prior.normal(0.0, 1e5, lower=0.0, upper=1.0),  # a window much narrower than the SD
    Prior.normal(3.0, 1e-3, lower=-1.0, upper=2.999),
    Prior.beta(2.0, 2.0),
    Prior.beta(0.5, 0.7),
    Prior.beta(1.0, 3.0, lower=-2.0, upper=5.0),
    Prior.beta(30.0, 1.0, lower=0.1, upper=0.2),
    Prior.uniform(0.0, 10.0),
    Prior.uniform(-3.0, -1.0),
]


def scipy_distribution(prior):
    """The frozen SciPy distribution of a prior, built here from its description."""
    if prior.family == "normal":
        loc, scale = prior.args
        return stats.truncnorm((prior.lower - loc) / scale, (prior.upper - loc) / scale,
                               loc=loc, scale=scale)
    if prior.family == "beta":
        return stats.beta(*prior.args, loc=prior.lower, scale=prior.upper - prior.lower)
    return stats.uniform(loc=prior.lower, scale=prior.upper - prior.lower)


def check_points(prior, rng):
    """Points inside the support (from the prior), on its bounds, just beyond them and far out."""
    inside = prior.sample(400, rng)
    ends = [b for b in (prior.lower, prior.upper) if math.isfinite(b)]
    near = [np.nextafter(b, d) for b in ends for d in (-np.inf, np.inf)]
    return np.concatenate([inside, ends, near, [-1e6, -3.0, 0.0, 0.3, 1.0, 7.0, 1e6]])


def assert_same_log_density(ours, reference):
    """Equal infinities in the same places, finite values to 1e-12 relative (or absolute)."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert np.array_equal(np.isfinite(ours), np.isfinite(reference))
    assert np.array_equal(ours[~np.isfinite(ours)], reference[~np.isfinite(reference)])
    finite = np.isfinite(ours)
    np.testing.assert_allclose(ours[finite], reference[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("prior", CLOSED_FORM_CASES, ids=str)
def test_closed_form_log_prob_matches_scipy(prior):
    x = check_points(prior, np.random.default_rng(5))
    with np.errstate(all="ignore"):
        reference = scipy_distribution(prior).logpdf(x)
    assert_same_log_density(prior.log_prob(x), reference)


def test_closed_form_comparison_catches_a_wrong_density():
    """Negative control: the comparison above fails for a density that is slightly wrong.

    An untruncated normal's log-density differs from the truncated one by the log mass
    (here log 0.5, and about 1e-6 for a window holding all but 1e-6 of the mass), and a
    beta with its arguments swapped differs except at the midpoint.
    """
    prior = Prior.normal(1.0, 0.5, lower=1.0)
    x = check_points(prior, np.random.default_rng(6))
    with pytest.raises(AssertionError):
        assert_same_log_density(prior.log_prob(x), stats.norm(1.0, 0.5).logpdf(x))
    wide = Prior.normal(0.0, 1.0, lower=-4.9, upper=4.9)
    x = check_points(wide, np.random.default_rng(7))
    with pytest.raises(AssertionError):
        assert_same_log_density(wide.log_prob(x),
                                np.where(np.abs(x) <= 4.9, stats.norm.logpdf(x), -np.inf))
    beta = Prior.beta(2.0, 3.0)
    x = check_points(beta, np.random.default_rng(8))
    with pytest.raises(AssertionError), np.errstate(all="ignore"):
        assert_same_log_density(beta.log_prob(x), stats.beta(3.0, 2.0).logpdf(x))


def test_joint_closed_forms_match_scipy_and_the_columns():
    """Priors.log_prob, the maps, the Jacobian and log_prob_unbounded, all columns at once,
    against SciPy per column and each Prior's own methods."""
    priors = Priors({"drift": CLOSED_FORM_CASES[0], "alpha": CLOSED_FORM_CASES[1],
                     "beta": CLOSED_FORM_CASES[9], "ter": CLOSED_FORM_CASES[3],
                     "kappa": CLOSED_FORM_CASES[10]})
    rng = np.random.default_rng(9)
    z = rng.normal(0.0, 3.0, size=(7, 4, 5))
    z[0, 0] = [40.0, -40.0, 800.0, -800.0, 30.0]  # values that round onto a bound
    columns = list(priors.names)
    theta = priors.from_unbounded(z)
    for i, name in enumerate(columns):
        assert np.array_equal(theta[..., i], priors[name].from_unbounded(z[..., i]))
    with np.errstate(all="ignore"):
        reference = sum(scipy_distribution(priors[name]).logpdf(theta[..., i])
                        for i, name in enumerate(columns))
    assert_same_log_density(priors.log_prob(theta), reference)
    jacobian = sum(priors[name].log_abs_det_jacobian(z[..., i]) for i, name in enumerate(columns))
    np.testing.assert_allclose(priors.log_abs_det_jacobian(z), jacobian, rtol=1e-13, atol=1e-13)
    assert_same_log_density(priors.log_prob_unbounded(z), reference + jacobian)
    fast_theta, fast_log_prior = priors._unbounded_terms(z)
    assert np.array_equal(fast_theta, theta)
    assert np.array_equal(fast_log_prior, priors.log_prob_unbounded(z))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_models_default_priors_match_scipy(name):
    priors = get_model(name).priors()
    theta = priors.sample(500, seed=3)
    with np.errstate(all="ignore"):
        reference = sum(scipy_distribution(priors[n]).logpdf(theta[:, i])
                        for i, n in enumerate(priors.names))
    assert_same_log_density(priors.log_prob(theta), reference)
