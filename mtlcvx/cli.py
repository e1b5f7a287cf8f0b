"""Command-line interface: ``mtlcvx reproduce``, ``mtlcvx bench``, ``mtlcvx list``."""

import argparse
import json
import math
import os
import pathlib
import sys
import tempfile

from . import __version__, experiments
from .experiments._common import stderr_progress

__all__ = ["main"]


def _write_json(path, payload):
    path = pathlib.Path(path)
    try:
        if path.parent != pathlib.Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=float))
    except OSError as exc:
        # checked writable before the run; the file system can still change
        # (or fill up) during it
        print(f"mtlcvx: error: argument --json: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def _fail(args, message):
    """Exit as argparse does for a bad option: the command's usage, one
    error line, status 2."""
    args.command_parser.error(message)


def _check_json_path(args):
    """Refuse an unwritable ``--json`` FILE before the run (an experiment
    takes minutes; its table would be lost at the end).  Creates the
    missing folders, as writing would, and nothing else."""
    if not args.json:
        return
    path = pathlib.Path(args.json)
    if path.is_dir():
        _fail(args, f"argument --json: {path} is a folder, not a file")
    folder = path.parent if path.parent != pathlib.Path("") else pathlib.Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.exists():
            if not os.access(path, os.W_OK):
                raise PermissionError(13, "Permission denied")
        else:
            # a probe file is the only portable proof that the folder takes files
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".mtlcvx-probe-"):
                pass
    except OSError as exc:
        _fail(args, f"argument --json: cannot write {path}: {exc.strerror or exc}")


def _check_out_folder(args, out):
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".mtlcvx-probe-"):
            pass
    except OSError as exc:
        option = "argument --out" if args.out else f"the default --out folder {out} (pass --out DIR)"
        _fail(args, f"{option}: cannot create or write {out}: {exc.strerror or exc}")


def _reproduce(args):
    # checked before any folder is made, so a typo leaves nothing behind
    known = experiments.available()
    if args.name not in known:
        print(f"mtlcvx reproduce: unknown experiment {args.name!r}; available: {sorted(known)}", file=sys.stderr)
        return 2
    _check_json_path(args)
    out = pathlib.Path(args.out) if args.out else pathlib.Path("mtlcvx_results") / args.name
    _check_out_folder(args, out)
    result = experiments.run(args.name, quick=args.quick, out=out, progress=None if args.silent else stderr_progress,
                             n_jobs=args.jobs, verbose=0 if args.silent else 1)
    return _report(result, args)


def _bench(args):
    from .bench import check_plot_path, run_bench, run_convergence

    if args.plot is None:
        _check_json_path(args)
        return _report(run_bench(quick=args.quick, budget=args.budget, progress=stderr_progress), args)
    # format, matplotlib and a writable folder are checked before minutes of timings
    try:
        check_plot_path(args.plot, name="FILE")
    except (ValueError, ImportError) as exc:
        _fail(args, f"argument --plot: {exc}")
    _check_plot_folder(args)
    _check_json_path(args)
    return _report(run_convergence(quick=args.quick, budget=args.budget, progress=stderr_progress, plot=args.plot),
                   args)


def _check_plot_folder(args):
    """``--plot`` FILE: its folder created (as ``--json``'s) and shown to
    take files, or the usage error; a folder named FILE is refused."""
    path = pathlib.Path(args.plot)
    if path.is_dir():
        _fail(args, f"argument --plot: {path} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".mtlcvx-probe-"):
            pass
    except OSError as exc:
        _fail(args, f"argument --plot: cannot write {path}: {exc.strerror or exc}")


def _report(result, args):
    """Print a run's table, notices and figures; write its JSON if asked."""
    print(result["text"])
    for notice in result.get("notices", []):
        print(notice)
    for figure in result.get("figures", []):
        print(f"figure: {figure}")
    if args.json:
        return _write_json(args.json, {k: v for k, v in result.items() if k != "text"})
    return 0


def _list(args):
    for name, description in experiments.available().items():
        print(f"{name:<12} {description}")
    return 0


def _positive_seconds(text):
    """``--budget``: a time limit handed to the solvers, so it must be a
    finite number of seconds above zero."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def _jobs(text):
    """``--jobs``: joblib's ``n_jobs``, a non-zero integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a non-zero integer (N >= 1, or -1 for all cores), got {text!r}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mtlcvx",
        description="Structured multi-task learning: CVXPY reference models and verified fast solvers.",
    )
    parser.add_argument("--version", action="version", version=f"mtlcvx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rep = sub.add_parser("reproduce", help="run a paper's experiment on built-in synthetic data")
    rep.add_argument("name", help="experiment name (see `mtlcvx list`)")
    rep.add_argument("--quick", action="store_true", help="small configuration, about a minute")
    rep.add_argument("--json", metavar="FILE", help="write the table and details as JSON")
    rep.add_argument("--out", metavar="DIR", help="folder for figures (default: mtlcvx_results/NAME)")
    rep.add_argument("--silent", action="store_true", help="no progress lines or bars")
    rep.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                     help="grid points, folds and repetitions in N parallel processes (-1: all cores); "
                          "the results do not depend on N")
    rep.set_defaults(func=_reproduce, command_parser=rep)

    bench = sub.add_parser("bench", help="speed of the fast solvers against the CVXPY references")
    bench.add_argument("--quick", action="store_true", help="small sizes only")
    bench.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    bench.add_argument("--budget", type=_positive_seconds, default=120.0, metavar="S",
                       help="time limit of one reference solve, in seconds (default 120)")
    bench.add_argument("--plot", metavar="FILE",
                       help="instead of the table: convergence curves (suboptimality against time, every solver on "
                            "the same instance, P* = the CVXPY reference optimum) saved to FILE (.png, .pdf or .svg; "
                            'needs matplotlib: pip install "mtlcvx[plot]"); --json then writes the curves')
    bench.set_defaults(func=_bench, command_parser=bench)

    lst = sub.add_parser("list", help="list the experiments `reproduce` knows")
    lst.set_defaults(func=_list, command_parser=lst)
    return parser


def main(argv=None):
    parser = build_parser()
    # parse_args would report a misspelt flag with the top-level usage; the
    # usage of the command it was given to is the one that helps
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
