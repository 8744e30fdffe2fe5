"""Check every layer's and model's backward pass against centred finite differences (float64).

Runs the cases registered in ``scratchlm.gradcheck.cases`` and prints one row per case: its name,
the largest relative error between the analytic and the numeric gradient, the tolerance, and
PASS / FAIL. A failing case also prints the per-array report that says where the worst element
is and what kind of bug the pattern suggests. Exit status 1 if any case fails.
"""
from __future__ import annotations

import argparse
import time

from scratchlm import backend


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--case", default=None, metavar="TEXT", help="run only the cases whose name contains TEXT")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the per-array report of every case, not only failures")
    parser.add_argument("--backend", choices=backend.BACKENDS, default=None, help="array backend to check (default: SCRATCHLM_BACKEND or numpy)")


def run(args: argparse.Namespace) -> int:
    if args.backend:
        backend.use(args.backend)
    from scratchlm.gradcheck.cases import CASES, run_case  # after backend.use, so the arrays land on the chosen device

    cases = [case for case in CASES if args.case is None or args.case.lower() in case.name.lower()]
    if not cases:
        raise ValueError(f"no gradient-check case matches {args.case!r}; cases: {', '.join(case.name for case in CASES)}")
    width = max(len(case.name) for case in cases)
    print(f"gradient checks, float64, backend {backend.name()}")
    print(f"{'case':<{width}}  {'max rel. error':>14}  {'tolerance':>9}  result")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 9}  ------")
    failed = 0
    started = time.perf_counter()
    for case in cases:
        report = run_case(case)
        failed += not report.passed
        print(f"{case.name:<{width}}  {report.max_error:>14.2e}  {case.tolerance:>9.0e}  {'PASS' if report.passed else 'FAIL'}")
        if args.verbose or not report.passed:
            print("\n".join("    " + line for line in str(report).splitlines()))
    seconds = time.perf_counter() - started
    print(f"{len(cases) - failed} of {len(cases)} cases passed in {seconds:.1f} s")
    return 1 if failed else 0
