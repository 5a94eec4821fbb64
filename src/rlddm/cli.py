"""The ``rlddm`` command line: simulate, train, validate, reference, fit, models and info.

Heavy modules (Keras via ``rlddm.inference``) are imported inside the subcommands,
after :func:`rlddm._quiet.configure` has silenced the libraries' start-up messages
(unless ``--verbose``) and ``--backend`` has set ``KERAS_BACKEND``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from . import __version__, _quiet

if TYPE_CHECKING:
    from .model import ModelSpec

DEFAULT_RUN = "runs/rlddm"
DEFAULT_BACKEND = "tensorflow"
"""``rlddm.inference.DEFAULT_BACKEND``, known here without importing Keras."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _set_backend(backend: str | None) -> None:
    """Choose the Keras backend and load it (quietly unless ``--verbose``)."""
    if backend:
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != backend:
            raise SystemExit(f"Keras is already imported with another backend; cannot use {backend}")
        os.environ["KERAS_BACKEND"] = backend
    _quiet.import_quietly(_backend()[0])


def _backend() -> tuple[str, str]:
    """The Keras backend the commands will use and where that choice comes from."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    return DEFAULT_BACKEND, "rlddm's default; KERAS_BACKEND unset"


def _print_metrics(metrics: dict) -> None:
    print(f"{'parameter':<10} {'r':>6} {'nrmse':>6} {'contraction':>11} {'calib. error':>12}")
    for name, values in metrics["parameters"].items():
        print(f"{name:<10} {values['r']:>6.3f} {values['nrmse']:>6.3f} "
              f"{values['contraction']:>11.3f} {values['calibration_error']:>12.3f}")
    # kappa_by_abs_drift: metrics.json written before validate used recovery_metrics
    for key in [k for k in metrics if k.endswith("_r_by_drift")] + ["kappa_by_abs_drift"]:
        if key not in metrics:
            continue
        labels = [label if "|drift|" in label else f"|drift| {label}" for label in metrics[key]]
        parts = [f"{label}: r = {v['r']:.3f} (n = {v['n']})" if v["r"] is not None
                 else f"{label}: n = {v['n']}" for label, v in zip(labels, metrics[key].values())]
        rate = key.removesuffix("_r_by_drift").removesuffix("_by_abs_drift")
        print(f"{rate} by " + "; ".join(parts))


def _positive_drift_priors(priors=None):
    """``priors`` (the post's by default) with drift ~ N(0, 2) truncated to [0, inf)."""
    from .model.priors import Prior, Priors

    priors = Priors.default() if priors is None else priors
    if "drift" not in priors.names:
        raise SystemExit("--positive-drift needs drift as a free parameter")
    return priors.replace(drift=Prior.normal(0.0, 2.0, lower=0.0))


def cmd_train(args: argparse.Namespace) -> None:
    _set_backend(args.backend)
    from . import inference

    options = {name: getattr(args, name) for name in (
        "epochs", "batches_per_epoch", "batch_size", "min_trials", "max_trials", "seed",
        "method", "features", "summary_network", "recurrent_units", "summary_dim",
        "flow_dropout", "time_budget")
        if getattr(args, name) is not None}
    if args.positive_drift:
        options["priors"] = _positive_drift_priors()
    config = inference.InferenceConfig(**options)
    if config.time_budget is None and not options.keys() & {"epochs", "batches_per_epoch",
                                                             "batch_size"}:
        config = inference.InferenceConfig(**(options | {"time_budget": inference.DEFAULT_TIME_BUDGET}))
    print(f"rlddm train: backend {inference.keras.backend.backend()}, {config.epochs} epochs x "
          f"{config.batches_per_epoch} batches of {config.batch_size}, trials "
          f"{config.min_trials}-{config.max_trials}, method {config.method}, run folder {args.out}")
    if (Path(args.out) / inference.MODEL_FILE).exists():
        print(f"{args.out} holds a finished training of this configuration: nothing to train")
    posterior = inference.train(config, args.out)
    timing = json.loads((Path(args.out) / "timing.json").read_text())
    print(f"trained {timing['steps']} steps in {timing['train_seconds']:.0f} s; simulation took "
          f"{100 * timing['simulation_fraction']:.1f}% of it")
    if not args.no_validate:
        metrics = inference.validate(posterior, args.out, n=args.validate_n)
        _print_metrics(metrics)
        print(f"diagnostics written to {args.out}")


def cmd_validate(args: argparse.Namespace) -> None:
    _set_backend(args.backend)
    from . import inference

    posterior = inference.AmortizedPosterior.load(args.run)
    if args.against:
        from .amortized.validation import compare_with_reference
        result = compare_with_reference(posterior, args.against, args.run, seed=args.seed)
        print(json.dumps(result["summary"], indent=2))
        return
    metrics = inference.validate(posterior, args.run, n=args.n, n_trials=args.trials,
                                 seed=args.seed)
    _print_metrics(metrics)
    print(f"diagnostics written to {args.run}")


def _model_from_args(args: argparse.Namespace):
    """The registered model named by ``--model``, with ``--fix`` and ``--free`` applied."""
    from .model import get_model, parse_fixed

    try:
        return get_model(args.model, fixed=parse_fixed(args.fix), free=tuple(args.free or ()))
    except ValueError as err:
        raise SystemExit(f"rlddm {args.command}: {err}") from None


def _design_from_args(args: argparse.Namespace):
    """The design named by ``--design`` (a registered name or a TOML file)."""
    from .task.designs import get_design

    try:
        return get_design(args.design)
    except ValueError as err:
        raise SystemExit(f"rlddm {args.command}: {err}") from None


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--fix``, ``--free`` and ``--design``, shared by the commands that simulate."""
    parser.add_argument("--model", default="rlddm",
                        help="registered model (rlddm models lists them; default rlddm)")
    parser.add_argument("--fix", action="append", metavar="NAME=VALUE",
                        help="hold a parameter constant, e.g. --fix beta=0.5 --fix p_outlier=0.05")
    parser.add_argument("--free", action="append", metavar="NAME",
                        help="estimate a parameter the model fixes by default (p_outlier)")
    parser.add_argument("--design", default="reversal",
                        help="task design: reversal, selection, selection_test or a TOML file "
                             "(default reversal)")


def cmd_reference(args: argparse.Namespace) -> None:
    from ._progress import Progress, SamplerProgress
    from .mcmc.runs import reference_run

    spec = _model_from_args(args)
    design = _design_from_args(args)
    priors = spec.priors()
    if args.positive_drift:
        priors = _positive_drift_priors(priors)
    n_trials = design.n_trials if args.trials is None else args.trials
    # the CLI runs the sampler with reference_run's defaults; read them, not a copy
    defaults = {name: p.default for name, p in inspect.signature(reference_run).parameters.items()}
    with Progress(1, label="rlddm reference", unit="iterations") as line:
        progress = SamplerProgress(line, defaults["n_warmup"],
                                   defaults["n_draws"] * defaults["thin"])
        metrics = reference_run(args.out, n=args.n, n_trials=n_trials, seed=args.seed,
                                priors=priors, model=spec, design=design, force=args.force,
                                progress=progress)
    print(json.dumps(metrics, indent=2))


def cmd_simulate(args: argparse.Namespace) -> None:
    from ._output import staged_files
    from .data import simulate_participants, write_trials

    spec = _model_from_args(args)
    design = _design_from_args(args)
    out = Path(args.out)
    truths_path = out.with_name(out.stem + "_truths.csv")
    for path in (out, truths_path):
        if path.exists() and not args.force:
            raise SystemExit(f"{path} exists; pass --force to overwrite it")
    try:
        priors = None
        if args.prior:
            from .fit.exact import parse_prior

            priors = spec.priors(**dict(parse_prior(text) for text in args.prior))
        trials, truths = simulate_participants(args.participants, args.trials, seed=args.seed,
                                               method=args.method, model=spec, design=design,
                                               priors=priors)
    except ValueError as err:
        raise SystemExit(f"rlddm simulate: {err}") from None
    if args.layout == "hddm":
        truths = truths.rename(columns={"participant": "subj_idx"})
    with staged_files(out, truths_path) as (staged_trials, staged_truths):
        try:
            write_trials(trials, staged_trials, overwrite=True, layout=args.layout)
        except ValueError as err:
            raise SystemExit(f"rlddm simulate: {err}") from None
        truths.to_csv(staged_truths, index=False)
    print(f"wrote {len(trials)} trials of {args.participants} participants ({spec.label()}, "
          f"design {args.design}) to {out} "
          f"and their parameters to {truths_path}")


def cmd_fit(args: argparse.Namespace) -> None:
    if args.hierarchical:
        return _fit_hierarchical(args)
    if args.group_by:
        raise SystemExit("rlddm fit: --group-by needs --hierarchical")
    if args.method != "exact":  # the exact method never loads Keras (seconds of start-up)
        _set_backend(args.backend)
    from .fit.exact import parse_prior
    from .fit import fit_csv
    from .model import parse_fixed

    try:
        fixed = parse_fixed(args.fix)
        priors = dict(parse_prior(text) for text in args.prior or ())
    except ValueError as err:
        raise SystemExit(f"rlddm fit: {err}") from None
    result = fit_csv(args.data, model=args.model, out=args.out, n_draws=args.draws,
                     layout=args.layout, force=args.force, seed=args.seed, method=args.method,
                     fixed=fixed, free=tuple(args.free or ()), priors=priors,
                     design=args.design, n_jobs=args.jobs, progress=sys.stderr.isatty(),
                     **{name: value for name, value in (
                         ("n_warmup", args.warmup), ("thin", args.thin),
                         ("n_chains", args.chains), ("n_ppc", args.ppc_draws))
                        if value is not None})
    for line in result.notes():
        print(line)
    print(result.summary().to_string(index=False))
    print(f"results written to {args.out}")


def _fit_hierarchical(args: argparse.Namespace) -> None:
    """``rlddm fit --hierarchical``: the group-level fit (rlddm.fit.hierarchical), exact or
    (``--method amortized``) two-stage from a network's draws."""
    from .fit.exact import parse_prior
    from .fit.hierarchical import fit_hierarchical_csv
    from .model import parse_fixed

    ignored = [flag for flag, value in (("--design", args.design),) if value is not None]
    if ignored:
        raise SystemExit(f"rlddm fit: --hierarchical does not take {', '.join(ignored)}")
    try:
        fixed = parse_fixed(args.fix)
        priors = dict(parse_prior(text) for text in args.prior or ())
    except ValueError as err:
        raise SystemExit(f"rlddm fit: {err}") from None
    fitted = fit_hierarchical_csv(args.data, out=args.out, model=args.model, fixed=fixed,
                                  free=tuple(args.free or ()), priors=priors,
                                  group_by=args.group_by, method=args.method,
                                  layout=args.layout, n_draws=args.draws, n_warmup=args.warmup, thin=args.thin,
                                  n_chains=args.chains, n_threads=args.jobs, force=args.force,
                                  seed=args.seed, **({} if args.ppc_draws is None else {"n_ppc": args.ppc_draws}),
                                  progress=sys.stderr.isatty())
    for line in fitted.notes():
        print(line)
    print(fitted.group_summary().to_string(index=False))
    print(f"results written to {args.out} (per participant in summary.csv, population in "
          "group_summary.csv)")


def cmd_compare(args: argparse.Namespace) -> None:
    from .fit.model_comparison import write_comparison

    try:
        print(write_comparison(args.fits, args.out))
    except ValueError as err:
        raise SystemExit(f"rlddm compare: {err}") from None


def cmd_models(args: argparse.Namespace) -> None:
    from .model import MODELS, get_model

    specs = [get_model(name) for name in args.names] if args.names else list(MODELS.values())
    print("\n\n".join(_describe_model(spec) for spec in specs))


def _describe_model(spec: ModelSpec) -> str:
    """``ModelSpec.describe`` plus the fixed parameters' supports and priors if freed."""
    lines = [spec.describe()]
    for parameter in spec.parameters:
        if parameter.name in spec.fixed:
            lines.append(f"    {parameter.name:<10} {parameter.support_text():<11} "
                         f"fixed at {spec.fixed[parameter.name]:g}; prior if freed "
                         f"{spec.default_priors[parameter.name]}  {parameter.description}")
    return "\n".join(lines)


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _shipped_networks() -> list[str]:
    """Two lines per folder under ``rlddm/pretrained`` with a ``config.json``."""
    from .model import DEFAULT_MODEL, get_model

    lines = []
    for folder in sorted(resources.files("rlddm").joinpath("pretrained").iterdir(),
                         key=lambda entry: entry.name):
        config_file = folder.joinpath("config.json")
        if not config_file.is_file():
            continue
        saved = json.loads(config_file.read_text())
        config = saved.get("config", {})
        # networks trained before the model registry carry no "model": the seed model
        model = config.get("model", DEFAULT_MODEL)
        if isinstance(model, dict):
            model = get_model(model["name"], fixed=model.get("fixed") or None).label()
        design = ", ".join(f"{key} {value}" for key, value in config.get("design", {}).items())
        lines += [f"  {folder.name}: model {model}, trials {config.get('min_trials')}-"
                  f"{config.get('max_trials')} (trained with {saved.get('backend', '?')}, "
                  f"bayesflow {saved.get('bayesflow', '?')})",
                  f"    design: {design or 'not recorded'}"]
    return lines or ["  none"]


def cmd_info(args: argparse.Namespace) -> None:
    from .simulator import _sim
    from .model import MODELS

    backend, source = _backend()
    loaded = "imported" if backend in sys.modules else "not imported"
    threads = os.environ.get("OMP_NUM_THREADS")
    print(f"rlddm {__version__} ({Path(__file__).parent})")
    print(f"python {sys.version.split()[0]}; numpy {_installed('numpy')}, bayesflow "
          f"{_installed('bayesflow')}, keras {_installed('keras')}, tensorflow "
          f"{_installed('tensorflow')}, jax {_installed('jax')}")
    print(f"keras backend: {backend} ({source}; {loaded})")
    print(f"simulator: OpenMP {'on' if _sim.OPENMP else 'off'}, {_sim.max_threads()} "
          f"thread(s) (OMP_NUM_THREADS {threads if threads else 'unset'})")
    print("models (theta columns; rlddm models for priors and supports):")
    for spec in MODELS.values():
        fixed = ", ".join(f"{n} = {v:g}" for n, v in spec.fixed.items())
        print(f"  {spec.name}: {', '.join(spec.names)}" + (f" (fixed: {fixed})" if fixed else ""))
    print("shipped networks:")
    print("\n".join(_shipped_networks()))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlddm", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Accepted before or after the command; SUPPRESS keeps a subcommand's absent
    # flag from resetting one given before it.
    verbose_help = "show every library message (TensorFlow, BayesFlow, ArviZ)"
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help=verbose_help)
    parser.add_argument("-v", "--verbose", action="store_true", default=False, help=verbose_help)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", parents=[common],
                           help="train an amortized posterior (online, resumable)")
    train.add_argument("--out", default=DEFAULT_RUN, help=f"run folder (default {DEFAULT_RUN})")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batches-per-epoch", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--min-trials", type=_positive_int)
    train.add_argument("--max-trials", type=_positive_int)
    train.add_argument("--seed", type=int)
    train.add_argument("--method", choices=("exact", "euler"),
                       help="simulation of the training data (default exact)")
    train.add_argument("--positive-drift", action="store_true",
                       help="drift ~ N(0, 2) truncated to [0, inf) instead of N(0, 2)")
    train.add_argument("--features", choices=("q_stats", "q_grid", "basic"),
                       help="network input (default q_stats: trials, replayed Q and the "
                            "likelihood's sufficient statistics; see rlddm.inference)")
    train.add_argument("--summary-network", choices=("gru", "set", "time_series"),
                       help="summary network over trials (default set)")
    train.add_argument("--recurrent-units", type=_positive_int,
                       help="width of the summary network (default 128)")
    train.add_argument("--summary-dim", type=_positive_int, help="summary size (default 24)")
    train.add_argument("--flow-dropout", type=float,
                       help="dropout in the coupling flow's subnetworks (default 0)")
    train.add_argument("--time-budget", type=float,
                       help="stop after this many seconds of training")
    train.add_argument("--backend", choices=("tensorflow", "jax"),
                       help="Keras backend (default: KERAS_BACKEND, else tensorflow)")
    train.add_argument("--validate-n", type=_positive_int, default=1000,
                       help="validation data sets after training (default 1000)")
    train.add_argument("--no-validate", action="store_true", help="skip the validation")
    train.set_defaults(func=cmd_train)

    validate = sub.add_parser("validate", parents=[common],
                              help="recovery, calibration and contraction diagnostics")
    validate.add_argument("run", help="run folder written by rlddm train")
    validate.add_argument("--n", type=_positive_int, default=1000)
    validate.add_argument("--trials", type=_positive_int,
                          help="trials per validation data set (default: the design's 60, "
                               "within the training range)")
    validate.add_argument("--seed", type=int, default=20240601)
    validate.add_argument("--against", help="reference folder written by rlddm reference")
    validate.add_argument("--backend", choices=("tensorflow", "jax"))
    validate.set_defaults(func=cmd_validate)

    reference = sub.add_parser("reference", parents=[common],
                               help="exact (MCMC) posteriors: the information limit")
    reference.add_argument("--n", type=_positive_int, default=200)
    reference.add_argument("--trials", type=_positive_int,
                           help="trials per data set (default: the design's, 60 for reversal)")
    reference.add_argument("--out", required=True)
    reference.add_argument("--seed", type=int, default=0)
    reference.add_argument("--force", action="store_true",
                           help="replace an existing non-empty output folder")
    reference.add_argument("--positive-drift", action="store_true",
                           help="drift ~ N(0, 2) truncated to [0, inf) instead of N(0, 2)")
    _add_model_arguments(reference)
    reference.set_defaults(func=cmd_reference)

    simulate = sub.add_parser("simulate", parents=[common],
                              help="simulate participants into a trial-level CSV")
    simulate.add_argument("--participants", type=_positive_int, default=10)
    simulate.add_argument("--trials", type=_positive_int,
                          help="trials per participant (default: the design's, 60 for reversal)")
    simulate.add_argument("--out", required=True, help="CSV path; truths go to *_truths.csv")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--method", choices=("exact", "euler"), default="exact")
    simulate.add_argument("--force", action="store_true", help="overwrite existing files")
    simulate.add_argument("--prior", action="append", metavar="NAME=DIST(...)",
                          help="draw a parameter from another prior than the model's, e.g. "
                               "--prior 'drift=normal(6, 2)'")
    simulate.add_argument("--layout", choices=("rlddm", "hddm"), default="rlddm",
                          help="columns of the CSV: rlddm (default) or HDDMrl's (subj_idx, "
                               "response, feedback, split_by, q_init)")
    _add_model_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    fit = sub.add_parser("fit", parents=[common],
                         help="posterior draws and checks for real participants")
    fit.add_argument("data", help="trial-level CSV (one row per trial)")
    fit.add_argument("--model", help="registered model name (rlddm models) or the run folder of "
                                     "a trained network (default: rlddm with the shipped network)")
    fit.add_argument("--method", choices=("auto", "amortized", "exact"), default="auto",
                     help="auto (default): a trained network where it covers the data's model, "
                          "design and trial range, else the exact likelihood (MCMC)")
    fit.add_argument("--fix", action="append", metavar="NAME=VALUE",
                     help="hold a parameter constant, e.g. --fix beta=0.5 --fix p_outlier=0.05")
    fit.add_argument("--free", action="append", metavar="NAME",
                     help="estimate a parameter the model fixes by default (p_outlier)")
    fit.add_argument("--prior", action="append", metavar="NAME=DIST(...)",
                     help="replace a default prior, e.g. --prior 'drift=normal(0, 5)'")
    fit.add_argument("--design", help="task design (name or TOML file) the data follow")
    fit.add_argument("--hierarchical", action="store_true",
                     help="group-level fit: participants drawn from a population (exact MCMC); "
                          "writes group_summary.csv")
    fit.add_argument("--group-by", metavar="COLUMN",
                     help="with --hierarchical: a participant-level column (e.g. patient/"
                          "control) by whose levels the population mean differs")
    fit.add_argument("--jobs", type=_positive_int,
                     help="worker processes (exact method; with --hierarchical: threads of the "
                          "likelihood, all cores by default)")
    fit.add_argument("--out", required=True)
    fit.add_argument("--draws", type=_positive_int,
                     help="draws per participant (network: 2000; exact: 1000 per chain)")
    fit.add_argument("--warmup", type=_positive_int,
                     help="exact method: warm-up iterations per chain (default 2000)")
    fit.add_argument("--thin", type=_positive_int,
                     help="exact method: keep every N-th iteration (default 3)")
    fit.add_argument("--chains", type=_positive_int, help="exact method: chains (default 4)")
    fit.add_argument("--ppc-draws", type=_positive_int,
                     help="posterior predictive data sets per participant (default 200)")
    fit.add_argument("--layout", choices=("rlddm", "hddm", "hssm"), default="rlddm")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--force", action="store_true", help="overwrite an existing output folder")
    fit.add_argument("--backend", choices=("tensorflow", "jax"))
    fit.set_defaults(func=cmd_fit)

    compare = sub.add_parser("compare", parents=[common],
                             help="rank fitted models by PSIS-LOO (expected log predictive density)")
    compare.add_argument("fits", nargs="+", metavar="FIT_DIR", help="folders written by rlddm fit")
    compare.add_argument("--out", help="folder for comparison.csv and comparison_by_participant.csv")
    compare.set_defaults(func=cmd_compare)

    models = sub.add_parser("models", parents=[common],
                            help="registered models: parameters, theta order, fixed values, priors")
    models.add_argument("names", nargs="*", metavar="MODEL", help="models to show (default: all)")
    models.set_defaults(func=cmd_models)

    info = sub.add_parser("info", parents=[common],
                          help="version, Keras backend, simulator threads, models, networks")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``rlddm`` console script."""
    args = build_parser().parse_args(argv)
    _quiet.configure(verbose=args.verbose)
    try:
        args.func(args)
    except (ValueError, FileExistsError) as error:
        raise SystemExit(f"rlddm {args.command}: {error}") from None
    except KeyboardInterrupt:
        # Ctrl-C, or SIGTERM turned into KeyboardInterrupt by the staged output folders:
        # the cleanup has run by now; say what is left and exit as shells expect (128 + 2).
        left = _AFTER_INTERRUPT.get(args.command, "nothing was written")
        print(f"rlddm {args.command}: interrupted; {left}", file=sys.stderr)
        raise SystemExit(130) from None


# What an interrupted command leaves; the others write through staged files and folders.
_AFTER_INTERRUPT = {
    "train": "its last checkpoint is kept: run the same command again to resume",
}
