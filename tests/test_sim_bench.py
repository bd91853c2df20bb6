"""``python -m sim.bench`` on a tiny configuration: the numbers are measured and consistent.

One RTL build (digits data, hidden 8, P = 2, T = 2) is shared by the module; the sweep that
compiles further configurations is opt-in (``--runslow``).
"""

import json

import numpy as np
import pytest

from golden.config import preset
from golden.core import FixedCore
from boards.ulx3s.protocol import PacketType, encode_packet, pack_commands
from golden.data import load_dataset
from sim.bench import link_bytes, main
from sim.bench_resident import resident_sdram
from sim.bounds import step_bound
from sim.scenario import data_samples, sample_commands

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TINY = ["--config", "digits", "--hidden", "8", "--lanes", "2", "--set", "timesteps=2",
        "--samples", "3", "--cpu-samples", "20"]
TINY_CFG = preset("digits", seed=0, hidden=(8,), lanes=2, timesteps=2)
FMAX_MHZ = 40.0
BAUD = 115200
KEYS = ("config", "lanes", "cycles_per_timestep", "bound_cycles_per_timestep",
        "cycles_ratio_to_bound", "fmax_mhz", "chip_samples_per_second", "cpu_samples_per_second",
        "speedup_vs_cpu", "cycles_per_sample", "link_bytes_per_sample", "link_samples_per_second",
        "end_to_end_samples_per_second", "samples", "command", "git_revision", "sweep")


def expected_link_bytes(cfg):
    """Bytes each way counted from the packet format by hand (docs/host_protocol.md): a packet
    is SYNC, TYPE, LEN, 4 bytes per word, 2 CRC bytes; the CMD packets carry START, the T
    STEPs (header + ceil(n_inputs / 32) spike words) and END, whole commands of at most 64
    words a packet; every command is answered by its own RESP packet: a header word, and
    for END also the class and m totals."""
    step = 1 + -(-cfg.n_inputs // 32)
    assert 64 // step >= 2, "the count below assumes a packet holds two STEPs"
    # the first packet: START and as many STEPs as fit; then full packets of STEPs; END
    # joins the last packet when it fits
    first = min(cfg.timesteps, (64 - 1) // step)
    rest = cfg.timesteps - first
    per = 64 // step
    packets = 1 + -(-rest // per)
    last_words = (1 + first * step) if rest == 0 else (rest - (packets - 2) * per) * step
    packets += last_words + 1 > 64
    words_in = 1 + cfg.timesteps * step + 1
    up = 5 * packets + 4 * words_in
    down = (1 + cfg.timesteps) * (5 + 4) + 5 + 4 * (1 + 1 + cfg.n_outputs)
    # The same through the encoder, with the verification suite's command builder.
    spikes = np.ones((cfg.timesteps, cfg.n_inputs), dtype=np.int64)
    commands = sample_commands(spikes, 0, True)
    assert [len(c) for c in commands] == [1] + [step] * cfg.timesteps + [1]
    assert sum(len(pkt) for pkt, _ in pack_commands(commands)) == up
    answers = [[0]] * (1 + cfg.timesteps) + [[0] * (2 + cfg.n_outputs)]
    assert sum(len(encode_packet(PacketType.RESP, a)) for a in answers) == down
    return up, down


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One benchmark run of the tiny configuration with a given Fmax; (JSON, folder, stdout)."""
    tmp = tmp_path_factory.mktemp("bench")
    summary = tmp / "summary.json"
    summary.write_text(json.dumps({"fmax_mhz": FMAX_MHZ, "timing_met": True, "device": "85F",
                                   "config": "digits", "pll_mhz": FMAX_MHZ, "lanes": 2}))
    # the lane sweep's build: another Fmax and resources than the main run's summary
    built = tmp / "p2.json"
    built.write_text(json.dumps({"fmax_mhz": 2 * FMAX_MHZ, "timing_met": False, "target_mhz": 100,
                                 "device": "85F", "config": "digits", "lanes": 2,
                                 "utilization": {k: {"used": n, "available": 99_999} for k, n in
                                                 (("LUT4", 1234), ("FF", 567), ("EBR", 8), ("MULT18", 6))}}))
    # Sweep points equal to the main configuration reuse its measurement (no extra build).
    rc = main(TINY + ["--summary", str(summary), "--baud", str(BAUD), "--sweep-lanes", "2",
                      "--sweep-summaries", str(built),
                      "--sweep-hidden", "8", "--build-dir", str(tmp / "build"),
                      "--json", str(tmp / "bench.json"), "--out", str(tmp / "out")])
    assert rc == 0
    return json.loads((tmp / "bench.json").read_text()), tmp


def test_cycles_are_measured_against_the_bound(tiny):
    r, _ = tiny
    for key in KEYS:
        assert key in r, key
    assert (r["config"], r["lanes"], r["hidden"], r["samples"]) == ("digits", 2, [8], 3)
    assert r["cycles_per_timestep"] >= r["bound_cycles_per_timestep"] > 0
    assert r["cycles_ratio_to_bound"] == pytest.approx(r["cycles_per_timestep"]
                                                       / r["bound_cycles_per_timestep"], rel=1e-12)
    # A sample is START + T steps + END, from one whole-run cycle count.
    total = r["cycles_per_sample"] * r["samples"]
    assert total == pytest.approx(round(total)) and r["cycles_per_sample"] > 2 * r["cycles_per_timestep"]


def test_bound_is_that_of_the_same_samples(tiny):
    """The bound, recomputed from the golden model on the same encoded training samples."""
    r, _ = tiny
    core, bounds = FixedCore(TINY_CFG), []
    for spikes, label, train in data_samples(TINY_CFG, load_dataset("digits"), 3, seed=TINY_CFG.seed):
        core.reset_sample()
        for x in spikes:
            core.step(x, label, train=train)
            bounds.append(step_bound(TINY_CFG, x, core, True))
    assert len(bounds) == 6
    assert r["bound_cycles_per_timestep"] == pytest.approx(np.mean(bounds), rel=1e-12)


def test_rates_follow_from_fmax_link_and_cpu(tiny):
    r, tmp = tiny
    assert r["fmax_mhz"] == FMAX_MHZ and r["fmax_source"] == str(tmp / "summary.json")
    chip = FMAX_MHZ * 1e6 / r["cycles_per_sample"]
    assert r["chip_samples_per_second"] == pytest.approx(chip, rel=1e-12)
    assert r["cpu_samples_per_second"] > 0
    assert r["speedup_vs_cpu"] == pytest.approx(chip / r["cpu_samples_per_second"], rel=1e-12)
    up, down = expected_link_bytes(TINY_CFG)
    assert (r["link_bytes_host_to_device"], r["link_bytes_device_to_host"]) == (up, down)
    assert r["link_bytes_per_sample"] == max(up, down)
    assert r["baud"] == BAUD
    assert r["link_samples_per_second"] == pytest.approx(BAUD / 10 / max(up, down), rel=1e-12)
    assert r["end_to_end_samples_per_second"] == min(chip, r["link_samples_per_second"])


def test_sweep_table_plot_and_provenance(tiny):
    r, tmp = tiny
    assert [(s["axis"], s["lanes"], s["hidden"]) for s in r["sweep"]] == [("lanes", 2, [8]),
                                                                           ("hidden", 2, [8])]
    for s in r["sweep"]:
        assert s["cycles_per_timestep"] == r["cycles_per_timestep"]
        assert s["bound_cycles_per_timestep"] == r["bound_cycles_per_timestep"]
    md = (tmp / "out" / "bench.md").read_text()
    assert "| quantity | value |" in md and "## Sweep" in md
    assert f"| lanes | 2 | [8] | {r['cycles_per_timestep']:.1f} |" in md
    assert (tmp / "out" / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the lane point carries its build's clock and cost; the hidden point has none
    b = r["sweep"][0]["build"]
    assert b["fmax_mhz"] == 2 * FMAX_MHZ and not b["timing_met"] and "build" not in r["sweep"][1]
    assert b["utilization"] == {"LUT4": 1234, "FF": 567, "EBR": 8, "MULT18": 6}
    assert b["chip_samples_per_second"] == pytest.approx(2 * r["chip_samples_per_second"], rel=1e-12)
    assert (f"| 2 | {r['cycles_per_sample']:.0f} | {2 * FMAX_MHZ:.2f} (100, NOT met) | 1234 | 567 | "
            f"8 | 6 | {b['chip_samples_per_second']:.0f} |") in md
    assert r["command"].startswith("python -m sim.bench --config digits") and "--summary" in r["command"]
    assert r["git_revision"] and r["git_revision"] != "unknown"


def test_without_summary_the_chip_rates_are_null(tiny, capsys):
    """An overridden configuration must not borrow the preset's build summary; the rerun
    (same build, same data, no stalls) gives the same cycles."""
    r, tmp = tiny
    capsys.readouterr()
    assert main(TINY + ["--no-sweep", "--build-dir", str(tmp / "build"),
                        "--json", str(tmp / "nofmax.json")]) == 0
    out = capsys.readouterr().out
    q = json.loads((tmp / "nofmax.json").read_text())
    assert q["cycles_per_timestep"] == r["cycles_per_timestep"] and q["sweep"] == []
    assert q["cycles_per_sample"] == r["cycles_per_sample"]
    for key in ("fmax_mhz", "chip_samples_per_second", "speedup_vs_cpu",
                "end_to_end_samples_per_second"):
        assert q[key] is None, key
    assert q["link_samples_per_second"] > 0 and q["baud"] == 1_000_000
    assert "n/a: no Fmax" in out and "unmodified preset" in out


def test_a_build_at_another_lane_count_gives_no_fmax(tiny, capsys):
    """The Fmax of a P = 8 build is not that of a P = 2 core: the summary is refused."""
    r, tmp = tiny
    other = tmp / "p8.json"
    other.write_text(json.dumps({"fmax_mhz": FMAX_MHZ, "timing_met": True, "device": "85F",
                                 "config": "digits", "pll_mhz": FMAX_MHZ, "lanes": 8}))
    capsys.readouterr()
    assert main(TINY + ["--no-sweep", "--summary", str(other), "--build-dir", str(tmp / "build"),
                        "--json", str(tmp / "p8bench.json")]) == 0
    q = json.loads((tmp / "p8bench.json").read_text())
    assert q["fmax_mhz"] is None and q["chip_samples_per_second"] is None
    assert "P = 8" in capsys.readouterr().out


@pytest.mark.parametrize("config, mhz", [("mnist", 40.0), ("digits", 50.0)])
def test_resident_sdram_runs_at_the_resident_build_clock(config, mhz):
    """The SDRAM model in the resident bench is clocked as ``rtl.build --resident`` clocks it
    by default, so its refresh and CAS cycles are those of the board."""
    from rtl.build_defaults import default_target
    assert default_target("85F", config, resident=config)[0] == mhz
    sdram = resident_sdram("85F", config)
    assert sdram["clk_freq"] == mhz * 1e6 and sdram["cas_latency"] == 2


@pytest.mark.parametrize("cfg", [preset("yinyang"), preset("digits")], ids=["yinyang", "digits"])
def test_link_bytes_match_the_packet_format(cfg):
    zero = np.zeros((cfg.timesteps, cfg.n_inputs), dtype=np.int64)
    up, down = expected_link_bytes(cfg)
    assert link_bytes(cfg, zero, 1) == {"host_to_device": up, "device_to_host": down}
    assert link_bytes(cfg, 1 - zero, 2) == {"host_to_device": up, "device_to_host": down}


@pytest.mark.parametrize("flags, name", [
    (["--samples", "0"], "samples"), (["--cpu-samples", "-1"], "cpu_samples"),
    (["--baud", "0"], "baud"), (["--sweep-lanes", "4,x"], "sweep-lanes"),
    (["--sweep-hidden", ""], "sweep-hidden"), (["--set", "n_inputs=16"], "n_inputs"),
    (["--set", "bogus=1"], "FIELD"), (["--sweep-summaries", "/nonexistent.json"], "sweep-summaries"),
])
def test_bad_flags_name_the_parameter(flags, name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(flags)
    assert exc.value.code == 2 and name in capsys.readouterr().err


@pytest.mark.slow
def test_sweep_cycles_fall_with_lanes_and_grow_with_hidden(tmp_path):
    """Opt-in (three more Verilator builds): more lanes, fewer cycles; more neurons, more."""
    assert main(TINY + ["--sweep-lanes", "1,2,4", "--sweep-hidden", "4,8,16", "--build-dir",
                        str(tmp_path / "build"), "--json", str(tmp_path / "b.json")]) == 0
    sweep = json.loads((tmp_path / "b.json").read_text())["sweep"]
    for axis, sign in (("lanes", -1), ("hidden", 1)):
        rows = [s for s in sweep if s["axis"] == axis]
        for key in ("cycles_per_timestep", "bound_cycles_per_timestep"):
            values = [s[key] for s in rows]
            assert all(sign * (b - a) > 0 for a, b in zip(values, values[1:])), (axis, key, values)
        assert all(s["cycles_per_timestep"] >= s["bound_cycles_per_timestep"] for s in rows)
