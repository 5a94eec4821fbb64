"""The ``rlddm`` command line: simulate, train, validate, reference and fit.

Heavy modules (Keras via ``rlddm.inference``) are imported inside the subcommands,
after ``--backend`` has set ``KERAS_BACKEND``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

DEFAULT_RUN = "runs/rlddm"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _set_backend(backend: str | None) -> None:
    if backend:
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != backend:
            raise SystemExit(f"Keras is already imported with another backend; cannot use {backend}")
        os.environ["KERAS_BACKEND"] = backend


def _print_metrics(metrics: dict) -> None:
    print(f"{'parameter':<10} {'r':>6} {'nrmse':>6} {'contraction':>11} {'calib. error':>12}")
    for name, values in metrics["parameters"].items():
        print(f"{name:<10} {values['r']:>6.3f} {values['nrmse']:>6.3f} "
              f"{values['contraction']:>11.3f} {values['calibration_error']:>12.3f}")
    if "kappa_by_abs_drift" in metrics:
        parts = [f"|drift| {label}: r = {v['r']:.3f} (n = {v['n']})" if v["r"] is not None
                 else f"|drift| {label}: n = {v['n']}"
                 for label, v in metrics["kappa_by_abs_drift"].items()]
        print("kappa by " + "; ".join(parts))


def _positive_drift_priors():
    """The post's priors with drift ~ N(0, 2) truncated to [0, inf)."""
    from .priors import Prior, Priors

    return Priors.default().replace(drift=Prior.normal(0.0, 2.0, lower=0.0))


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
        from .comparison import compare_with_reference
        result = compare_with_reference(posterior, args.against, args.run, seed=args.seed)
        print(json.dumps(result["summary"], indent=2))
        return
    metrics = inference.validate(posterior, args.run, n=args.n, n_trials=args.trials,
                                 seed=args.seed)
    _print_metrics(metrics)
    print(f"diagnostics written to {args.run}")


def cmd_reference(args: argparse.Namespace) -> None:
    from .posterior import reference_run
    from .priors import Priors

    priors = _positive_drift_priors() if args.positive_drift else Priors.default()
    metrics = reference_run(args.out, n=args.n, n_trials=args.trials, seed=args.seed,
                            priors=priors)
    print(json.dumps(metrics, indent=2))


def cmd_simulate(args: argparse.Namespace) -> None:
    from .data import simulate_participants, write_trials

    out = Path(args.out)
    truths_path = out.with_name(out.stem + "_truths.csv")
    for path in (out, truths_path):
        if path.exists() and not args.force:
            raise SystemExit(f"{path} exists; pass --force to overwrite it")
    trials, truths = simulate_participants(args.participants, args.trials, seed=args.seed,
                                           method=args.method)
    write_trials(trials, out, overwrite=args.force)
    truths.to_csv(truths_path, index=False)
    print(f"wrote {len(trials)} trials of {args.participants} participants to {out} "
          f"and their parameters to {truths_path}")


def cmd_fit(args: argparse.Namespace) -> None:
    _set_backend(args.backend)
    from .fit import fit_csv

    summary = fit_csv(args.data, model=args.model, out=args.out, n_draws=args.draws,
                      layout=args.layout, force=args.force, seed=args.seed)
    print(summary.to_string(index=False))
    print(f"results written to {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlddm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train an amortized posterior (online, resumable)")
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

    validate = sub.add_parser("validate", help="recovery, calibration and contraction diagnostics")
    validate.add_argument("run", help="run folder written by rlddm train")
    validate.add_argument("--n", type=_positive_int, default=1000)
    validate.add_argument("--trials", type=_positive_int,
                          help="trials per validation data set (default: the design's 60, "
                               "within the training range)")
    validate.add_argument("--seed", type=int, default=20240601)
    validate.add_argument("--against", help="reference folder written by rlddm reference")
    validate.add_argument("--backend", choices=("tensorflow", "jax"))
    validate.set_defaults(func=cmd_validate)

    reference = sub.add_parser("reference", help="exact (MCMC) posteriors: the information limit")
    reference.add_argument("--n", type=_positive_int, default=200)
    reference.add_argument("--trials", type=_positive_int, default=60)
    reference.add_argument("--out", required=True)
    reference.add_argument("--seed", type=int, default=0)
    reference.add_argument("--positive-drift", action="store_true",
                           help="drift ~ N(0, 2) truncated to [0, inf) instead of N(0, 2)")
    reference.set_defaults(func=cmd_reference)

    simulate = sub.add_parser("simulate", help="simulate participants into a trial-level CSV")
    simulate.add_argument("--participants", type=_positive_int, default=10)
    simulate.add_argument("--trials", type=_positive_int, default=60)
    simulate.add_argument("--out", required=True, help="CSV path; truths go to *_truths.csv")
    simulate.add_argument("--seed", type=int)
    simulate.add_argument("--method", choices=("exact", "euler"), default="exact")
    simulate.add_argument("--force", action="store_true", help="overwrite existing files")
    simulate.set_defaults(func=cmd_simulate)

    fit = sub.add_parser("fit", help="posterior draws and checks for real participants")
    fit.add_argument("data", help="trial-level CSV (one row per trial)")
    fit.add_argument("--model", help="run folder of a trained model (default: the shipped one)")
    fit.add_argument("--out", required=True)
    fit.add_argument("--draws", type=_positive_int, default=2000)
    fit.add_argument("--layout", choices=("rlddm", "hddm", "hssm"), default="rlddm")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--force", action="store_true", help="overwrite an existing output folder")
    fit.add_argument("--backend", choices=("tensorflow", "jax"))
    fit.set_defaults(func=cmd_fit)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``rlddm`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileExistsError) as error:
        raise SystemExit(f"rlddm {args.command}: {error}") from None
