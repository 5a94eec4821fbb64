"""The package layout: old import paths keep working, and the light layers need no Keras."""

import importlib
import subprocess
import sys

import pytest

# Every public name of the flat modules before the layout moved them into folders.
OLD_NAMES = {
    "parameters": ("Parameter", "PARAMETER_TABLE", "PARAMETERS", "PARAMETER_NAMES",
                   "N_PARAMETERS", "check_columns", "check_theta"),
    "priors": ("FAMILIES", "LARGEST", "Prior", "Priors", "DEFAULT_PRIORS"),
    "task": ("ReversalDesign", "reversal_outcomes"),
    "designs": ("PathLike", "ORDERS", "Option", "Phase", "TaskDesign", "Design", "save_design",
                "load_design", "list_designs", "get_design"),
    "simulation": ("METHODS", "DEFAULT_MAX_RETRIES", "SimulationResult", "SimulationInputs",
                   "check_outcomes", "check_options", "check_simulation_options",
                   "broadcast_batch", "owned_copy", "check_output_size",
                   "check_simulation_inputs", "simulate"),
    "reference": ("learn", "trial_drift", "euler_trial", "exact_trial", "lapse_trial",
                  "simulate"),
    "posterior": ("RHAT_MAX", "MIN_ESS", "RETRY_FACTOR", "TARGET_ACCEPTANCE",
                  "INDEPENDENT_SHARE", "T_DOF", "INTERVAL_LEVELS", "DRIFT_BINS", "rhat",
                  "ess_bulk", "ess_tail", "PosteriorResult", "PosteriorBatch",
                  "NotConvergedError", "sample_posteriors", "sample_posterior",
                  "LEARNING_RATES", "recovery_metrics", "reference_run", "loglik_batch"),
    "inference": ("DEFAULT_BACKEND", "BASIC_FEATURES", "KAPPA_GRID", "FEATURE_SETS",
                  "STATISTICS_GRID", "RT_QUANTILES", "STATISTIC_NAMES", "DEFAULT_TIME_BUDGET",
                  "CONFIG_FILE", "MODEL_FILE", "SUMMARY_NETWORKS", "INFERENCE_NETWORKS",
                  "InferenceConfig", "replayed_q_differences", "likelihood_statistics",
                  "TER_NETWORK_NAME", "ter_to_network", "ter_from_network", "encode_trials",
                  "RLDDMSimulator", "GRUSummary", "SetSummary", "build_adapter",
                  "build_approximator", "build_optimizer", "TimeBudget", "OnlineBatches",
                  "SimulatorState", "AmortizedPosterior", "train", "validate", "bf", "keras"),
    "comparison": ("MAX_MEDIAN_GAP", "MAX_R_SHORTFALL", "mmd_squared",
                   "compare_with_reference"),
    "exact_fit": ("CHUNK_TRIALS", "SAMPLER_DEFAULTS", "parse_prior", "chunk_participants",
                  "ExactPosteriors", "fit_exact"),
    "model_comparison": ("LOG_LIKELIHOOD_VARIABLE", "PARETO_K_WARN", "load_fit_loo",
                         "compare_fits", "write_comparison"),
    "fit": ("METHODS", "FORCE_FLAG", "HDI_PROB", "PPC_INTERVAL", "PPC_DRAWS", "AMORTIZED_DRAWS",
            "REVERSAL_OFFSETS", "RT_QUANTILES", "PAIR_BIN", "MAX_PANELS", "CHOICE_PLOTS",
            "MISSED_NOTE", "LOG_LIKELIHOOD_NOTE", "shipped_model", "check_fit_range",
            "FitResult", "fit_participants", "better_arm", "reversal_windows",
            "PredictiveChecks", "predictive_checks", "save_fit", "fit_csv"),
    "data": ("PathLike", "ROLES", "REQUIRED_ROLES", "DataError", "Layout", "LAYOUTS",
             "ParticipantTrials", "TrialData", "read_trials", "simulate_participants",
             "write_trials"),
    "likelihood": ("wfpt_logpdf", "wfpt_logcdf", "wfpt_conditional_cdf", "log_prob_response",
                   "loglik", "loglik_trials", "loglik_batch", "rt_pit"),
}

LIGHT = ("rlddm", "rlddm.model", "rlddm.task", "rlddm.simulator", "rlddm.likelihood",
         "rlddm.mcmc", "rlddm.data", "rlddm.amortized", "rlddm.amortized.features",
         "rlddm.amortized.config", "rlddm.fit.exact")
HEAVY = ("keras", "tensorflow", "bayesflow")


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_old_import_paths_keep_every_public_name(old):
    module = importlib.import_module(f"rlddm.{old}")
    missing = [name for name in OLD_NAMES[old] if not hasattr(module, name)]
    assert not missing, f"rlddm.{old} lost {missing}"


@pytest.mark.parametrize("name", LIGHT)
def test_light_layers_import_no_keras(name):
    code = (f"import sys, {name}; heavy = [m for m in {HEAVY!r} if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_check_catches_keras():
    # negative control: the amortized networks do import Keras, and the check sees it
    code = ("import sys, rlddm.inference; "
            f"assert any(m in sys.modules for m in {HEAVY!r})")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
