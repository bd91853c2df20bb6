"""Mutation check of the learning tests: break the learning rule, see which tests fail.

Example::

    python -m tools.mutate                    # every mutation, the default test files
    python -m tools.mutate --only fixed-sign  # one mutation

Each mutation is a one-line scratch edit of the golden model, applied to a copy of
``golden/``, ``tools/`` and ``tests/`` in a temporary directory (the working tree is never
touched).  The named test files run there with ``python -m pytest``; a mutation is
*caught* when at least one test fails.  The unmutated copy runs first and must pass.
Prints the table mutation -> failing tests; exits 1 if any mutation survives.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

__all__ = ["MUTATIONS", "main"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = ("tests/test_learning_signal.py", "tests/test_training.py")

# name -> (what it breaks, file, exact old text, new text)
MUTATIONS = {
    "fixed-readout-only": (
        "chip: hidden weights never updated (readout-only learning)", "golden/core.py",
        "self.weights[l] = hidden_update(cfg, self.weights[l], self.factors[l], self.traces[l])",
        "pass"),
    "fixed-m-zero": (
        "chip: M frozen at zero", "golden/feedback.py",
        '    step = np.right_shift(oc, cfg.feedback_input_shift)\n',
        '    return M\n'),
    "fixed-m-wrong-noise": (
        "chip: M updated with noise independent of the injected noise", "golden/feedback.py",
        "np.outer(z, step)",
        "np.outer(np.random.default_rng().choice((-1, 1), size=z.shape), step)"),
    "fixed-sign": (
        "chip: sign error in the hidden update", "golden/update_rule.py",
        "step = round_shift(np.multiply.outer(d[rows], a_pre[cols]), cfg.hidden_shift)",
        "step = -round_shift(np.multiply.outer(d[rows], a_pre[cols]), cfg.hidden_shift)"),
    "float-readout-only": (
        "float: hidden weights never updated (readout-only learning)",
        "golden/float_reference.py", "if g[l] is not None:", "if False:"),
    "float-m-zero": (
        "float: M frozen at zero", "golden/float_reference.py",
        "M += (1.0 - self.momentum) * np.outer(z[l], oc)", "M += 0.0"),
    "float-m-wrong-noise": (
        "float: M updated with noise independent of the injected noise",
        "golden/float_reference.py", "np.outer(z[l], oc)",
        "np.outer(self.rng.choice((-1.0, 1.0), size=z[l].shape), oc)"),
    "float-sign": (
        "float: sign error in the hidden update", "golden/float_reference.py",
        "self.weights[l] -= self.lr_hidden", "self.weights[l] += self.lr_hidden"),
}


def _copy_tree(dst):
    for d in ("golden", "tools", "tests"):
        shutil.copytree(os.path.join(ROOT, d), os.path.join(dst, d),
                        ignore=shutil.ignore_patterns("__pycache__", "cocotb_examples"))
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), dst)


def _apply(dst, path, old, new):
    p = os.path.join(dst, path)
    with open(p) as f:
        text = f.read()
    if text.count(old) != 1:
        raise SystemExit(f"mutation target not found exactly once in {path}: {old!r}")
    with open(p, "w") as f:
        f.write(text.replace(old, new))


def _run(dst, tests):
    # golden must come from the scratch copy, not from an installed copy
    where = subprocess.run([sys.executable, "-c", "import golden; print(golden.__file__)"],
                           cwd=dst, capture_output=True, text=True, check=True).stdout.strip()
    if not where.startswith(os.path.realpath(dst)) and not where.startswith(dst):
        raise SystemExit(f"the scratch copy is not the one imported ({where})")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-o", "addopts=", "-rf", *tests], cwd=dst, capture_output=True, text=True)
    failed = sorted(set(re.findall(r"^FAILED (\S+)", r.stdout, re.M)))
    return r.returncode, failed, r.stdout


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=sorted(MUTATIONS), default=None)
    p.add_argument("--tests", nargs="+", default=list(TESTS))
    args = p.parse_args(argv)
    names = args.only or list(MUTATIONS)
    rows, survived = [], []
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "clean")
        _copy_tree(base)
        code, failed, out = _run(base, args.tests)
        if code != 0:
            print(out)
            raise SystemExit("the unmutated copy fails its tests")
        print("unmutated: all tests pass", flush=True)
        for name in names:
            what, path, old, new = MUTATIONS[name]
            dst = os.path.join(tmp, name)
            _copy_tree(dst)
            _apply(dst, path, old, new)
            code, failed, _ = _run(dst, args.tests)
            rows.append((name, what, failed))
            if not failed:
                survived.append(name)
            print(f"{name}: {len(failed)} failing", flush=True)
    print("\n| mutation | what it breaks | failing tests |\n|---|---|---|")
    for name, what, failed in rows:
        print(f"| {name} | {what} | {', '.join(f.split('::', 1)[1] for f in failed) or 'NONE'} |")
    if survived:
        print(f"\nsurvived: {', '.join(survived)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
