"""The benchmark's clock: Fmax read from ``rtl.build`` summaries (stage 2 of :mod:`sim.bench`).

:func:`read_fmax` reads one ``summary.json``; :func:`fmax_for` finds (or builds, with
``--build``) the summary of the benchmarked configuration and refuses one built at another P;
:func:`lane_summaries` matches the ``--sweep-summaries`` files to the lane sweep's points.
"""

import hashlib
import json
from pathlib import Path

from golden.config import PRESETS
from rtl.build_summary import lanes_suffix, summary_lanes

__all__ = ["read_fmax", "fmax_for", "timing_note", "lane_summaries"]


def read_fmax(path):
    """Fmax of a build.

    Parameters
    ----------
    path : path-like
        A ``summary.json`` written by :func:`rtl.build.build`.

    Returns
    -------
    (float or None, dict)
        nextpnr's achieved Fmax of the core clock in MHz (None if the build has none), and
        the whole summary.
    """
    summary = json.loads(Path(path).read_text())
    fmax = summary.get("fmax_mhz")
    return (float(fmax) if fmax else None), summary


def fmax_for(cfg, args):
    """Fmax in MHz (or None), where it came from, and a note for the reader."""
    base = PRESETS[cfg.name]
    # a preset at another lane count is built by rtl.build --lanes into <folder>-p<P>
    is_preset = cfg.with_(seed=base.seed, lanes=base.lanes) == base
    default = Path("build") / f"ulx3s-{args.device}-{cfg.name}{lanes_suffix(cfg, base.lanes)}" / "summary.json"
    if args.build:
        from rtl.build import build
        digest = hashlib.sha1(json.dumps(cfg.to_dict()).encode()).hexdigest()[:8]
        suffix = "" if is_preset else "-" + digest     # never overwrite the preset's build
        out = default.parent.with_name(default.parent.name + suffix)
        summary = build("ulx3s", args.device, cfg.name, args.freq, out, cfg=cfg, baud=args.baud)
        return summary.get("fmax_mhz"), str(out / "summary.json"), timing_note(summary)
    path = Path(args.summary) if args.summary else default
    if not args.summary and not is_preset:
        return None, None, f"no Fmax: {default} is for the unmodified preset; give --summary or --build"
    if not path.is_file():
        return None, None, f"no Fmax: {path} does not exist (run with --build, or give --summary)"
    fmax, summary = read_fmax(path)
    if summary_lanes(summary, base.lanes) != cfg.lanes:
        return None, None, (f"no Fmax: {path} is a build with P = {summary_lanes(summary, base.lanes)}, "
                            f"this benchmark runs P = {cfg.lanes}")
    note = timing_note(summary)
    # A summary does not record the sources it was built from; its age is the next best hint.
    root = Path(__file__).resolve().parent.parent
    newest = max(f.stat().st_mtime for d in ("rtl", "boards/ulx3s") for f in (root / d).glob("*.py"))
    if path.stat().st_mtime < newest:
        note += "; WARNING: older than the rtl/ and boards/ulx3s/ sources, may not be this core's"
    return fmax, str(path), note


def timing_note(summary):
    """One line on where an Fmax comes from: device, configuration, target and whether met."""
    met = "met" if summary.get("timing_met") else "NOT met"
    return (f"nextpnr Fmax of the core clock, {summary.get('device', '?')} build of config "
            f"{summary.get('config', '?')}; target {summary.get('pll_mhz', '?')} MHz {met}")


def lane_summaries(text, preset_lanes):
    """``{P: (path, summary)}`` from comma-separated ``rtl.build`` summaries (a summary without
    a ``lanes`` field is of the preset's P); two summaries of one P are refused."""
    found = {}
    for path in filter(None, (t.strip() for t in text.split(","))):
        if not Path(path).is_file():
            raise ValueError(f"sweep-summaries: {path} does not exist")
        _, summary = read_fmax(path)
        lanes = summary_lanes(summary, preset_lanes)
        if lanes in found:
            raise ValueError(f"sweep-summaries: {found[lanes][0]} and {path} are both P = {lanes}")
        found[lanes] = (path, summary)
    return found
