"""How the build command finds boards and reads its ``--seeds``: boards register themselves
under the ``opzo_core.boards`` entry points (pyproject.toml), so ``rtl.build`` imports no board
by name."""

from importlib.metadata import entry_points

__all__ = ["BOARD_ENTRY_POINTS", "board_names", "find_board", "parse_seeds"]

BOARD_ENTRY_POINTS = "opzo_core.boards"   # pyproject.toml: name -> a board object (boards/*/board.py)


def parse_seeds(text):
    """``"0-3"`` -> ``[0, 1, 2, 3]``; ``"0,2,5"`` -> ``[0, 2, 5]``; ranges and lists mix."""
    seeds = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        raise ValueError(f"seeds must look like 0-3 or 0,2,5, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, got {text!r}")
    return seeds


def board_names():
    """Names of the boards registered under the ``opzo_core.boards`` entry points."""
    return sorted(ep.name for ep in entry_points(group=BOARD_ENTRY_POINTS))


def find_board(name):
    """The board object registered as ``name`` (``platform(device)``, ``top(cfg, freq_hz=,
    baud=)``, ``devices``, ``default_baud``).  The build command depends on no board: the
    boards register themselves in pyproject.toml."""
    found = [ep for ep in entry_points(group=BOARD_ENTRY_POINTS) if ep.name == name]
    if not found:
        known = board_names()
        hint = (f"one of {known}" if known else
                "a registered board, and none is: install the project (pip install -e .)")
        raise ValueError(f"board must be {hint}, got {name!r}")
    return found[0].load()
