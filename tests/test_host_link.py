"""The ULX3S UART host link: framing/CRC unit tests, the host driver over the simulation
transport, and the real top level (PLL bypassed) under cocotb over simulated UART pins."""

import json
import random
from pathlib import Path

import numpy as np
import pytest

from boards.ulx3s.protocol import (MAX_WORDS, SYNC, Decoder, LinkError, LinkModel, PacketType,
                                   crc16, encode_packet, error_word, info_words, pack_commands,
                                   parse_error_word, parse_info, split_commands)
from golden.config import preset
from golden.protocol import Mem, Op, command_words
from sim.scenario import sample_commands

SMALL = dict(n_inputs=8, hidden=(6,), n_outputs=3, lanes=2, timesteps=2)
TB = Path(__file__).parent / "cocotb_link_tb.py"


def small_cfg():
    return preset("digits", **SMALL)


# --- pure Python framing ---------------------------------------------------------------

def test_crc16_ccitt_false_check_value():
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


def test_packet_layout_by_hand():
    pkt = encode_packet(PacketType.CMD, [0x11223344])
    assert pkt[:3] == bytes([SYNC, 0x01, 1]) and pkt[3:7] == bytes([0x44, 0x33, 0x22, 0x11])
    crc = crc16(bytes([0x01, 1, 0x44, 0x33, 0x22, 0x11]))
    assert pkt[7:] == bytes([crc & 0xFF, crc >> 8]) and len(pkt) == 9
    with pytest.raises(ValueError):
        encode_packet(PacketType.CMD, [0] * (MAX_WORDS + 1))


def test_decoder_roundtrip_resync_and_split_feeds():
    rnd = random.Random(1)
    pkts = [(rnd.choice([0x81, 0x82, 0xEE]), [rnd.getrandbits(32) for _ in range(rnd.randrange(5))])
            for _ in range(50)]
    stream = b""
    for t, w in pkts:
        stream += bytes(rnd.choice([0, 1, 0x5A]) for _ in range(rnd.randrange(3))) + encode_packet(t, w)
    dec, got = Decoder(), []
    i = 0
    while i < len(stream):          # feed in random chunks
        n = rnd.randrange(1, 7)
        got += dec.feed(stream[i:i + n])
        i += n
    assert [(p.type, p.words) for p in got] == pkts


def test_decoder_drops_corrupt_packet_and_finds_the_next():
    good = encode_packet(PacketType.RESP, [1, 2])
    bad = bytearray(encode_packet(PacketType.RESP, [3]))
    bad[4] ^= 0x10
    dec = Decoder()
    got = dec.feed(bytes(bad) + good)
    assert [p.words for p in got] == [[1, 2]] and dec.crc_errors == 1


def test_split_and_pack_commands():
    n_inputs = 40     # two spike words per STEP
    cmds = [command_words(Op.START, train=True, label=1),
            command_words(Op.STEP, bits=[1] * 40), command_words(Op.END),
            command_words(Op.WRITE, mem=Mem.W1, row=0, col=0, value=-3),
            command_words(Op.READ, mem=Mem.W1, row=0, col=0)]
    flat = [w for c in cmds for w in c]
    assert split_commands(flat, n_inputs) == cmds
    with pytest.raises(ValueError):
        split_commands(flat[:-1], n_inputs)
    packed = pack_commands(cmds * 20, max_words=16)
    dec = Decoder()
    words = [w for pkt, _ in packed for p in dec.feed(pkt) for w in p.words]
    assert words == flat * 20 and sum(n for _, n in packed) == 100
    assert all(len(pkt) <= 5 + 4 * 16 for pkt, _ in packed)


def test_error_and_info_words():
    w = error_word(LinkError.BAD_CRC, 0x01, 3)
    assert parse_error_word(w) == (LinkError.BAD_CRC, 1, 3)
    cfg = preset("yinyang")
    info = parse_info(info_words(cfg))
    assert info["hidden"] == [64, 64] and info["n_inputs"] == 256 and info["n_outputs"] == 3


def test_link_model_rules():
    cfg = small_cfg()
    model = LinkModel(cfg)
    dec = Decoder()

    def answer(data):
        return dec.feed(model.feed(data))

    (p,) = answer(encode_packet(PacketType.PING))
    assert p.type == PacketType.PONG and parse_info(p.words)["n_inputs"] == 8
    # one RESP per command of a CMD packet
    pkts = answer(encode_packet(PacketType.CMD, command_words(Op.NOP) + command_words(
        Op.READ, mem=Mem.PARAM, row=1, col=0)))
    assert [p.type for p in pkts] == [PacketType.RESP] * 2 and pkts[1].words[1] == cfg.readout_lr_shift
    # errors
    bad = bytearray(encode_packet(PacketType.CMD, command_words(Op.NOP)))
    bad[3] ^= 1
    (p,) = answer(bytes(bad))
    assert parse_error_word(p.words[0]) == (LinkError.BAD_CRC, 1, 1)
    (p,) = answer(bytes([SYNC, 1, 200]))
    assert parse_error_word(p.words[0]) == (LinkError.BAD_LENGTH, 1, 200)
    (p,) = answer(encode_packet(PacketType.CMD, [Op.STEP << 28]))
    assert parse_error_word(p.words[0])[0] == LinkError.BAD_LENGTH
    (p,) = answer(encode_packet(0x33, []))
    assert parse_error_word(p.words[0])[0] == LinkError.BAD_TYPE
    assert answer(encode_packet(PacketType.CMD, [0])[:5]) == []
    (p,) = dec.feed(model.timeout())
    assert parse_error_word(p.words[0])[0] == LinkError.TIMEOUT
    assert answer(b"\x00\x01garbage") == []


# --- host driver over the simulation transport --------------------------------------------

def test_host_driver_sim_transport_train_dump_load(tmp_path):
    from boards.ulx3s.driver import OpzoHost, SimTransport
    from golden.command_model import CoreModel

    cfg = small_cfg()
    host = OpzoHost(SimTransport(cfg))
    info = host.ping()
    assert info["n_inputs"] == 8 and info["hidden"] == [6]
    rng = np.random.default_rng(0)
    ref = CoreModel(cfg)
    for _ in range(3):
        spikes = (rng.random((cfg.timesteps, cfg.n_inputs)) < 0.5).astype(int)
        label = int(rng.integers(cfg.n_outputs))
        pred, totals = host.run_sample(spikes, label, train=True)
        want = [w for c in sample_commands(spikes, label, True) for x in c for w in ref.feed(x)]
        assert pred == want[-4] and totals == [w - (1 << 32) if w >> 31 else w for w in want[-3:]]
    ckpt = tmp_path / "ckpt.npz"
    host.dump(ckpt)
    data = np.load(ckpt)
    assert np.array_equal(data["W1"], ref.core.weights[0])
    assert np.array_equal(data["W_OUT"], ref.core.weights[-1])
    # load into a fresh device: same weights read back
    other = OpzoHost(SimTransport(cfg))
    other.load(ckpt)
    assert np.array_equal(other.read_matrix(Mem.W1, 6, 8), ref.core.weights[0])


def test_host_recovers_after_garbage():
    from boards.ulx3s.driver import OpzoHost, SimTransport

    host = OpzoHost(SimTransport(small_cfg()))
    host.transport.write(encode_packet(PacketType.CMD, [0, 0, 0])[:6])   # truncated packet
    host.resync()
    assert host.read(Mem.PARAM, 0, 0) == small_cfg().hidden_lr_shift


# --- the real top level under cocotb ----------------------------------------------------------

def _run_tb(tmp_path, testcase, resident=None, **env):
    from boards.ulx3s.top import ULX3STop
    from sim.runner import run_cocotb

    cfg = small_cfg()
    top = ULX3STop(cfg, sim=True, divisor=4, timeout_cycles=200, led_hold_cycles=50,
                   resident=resident)
    if resident:
        env["RESIDENT"] = json.dumps(list(resident))
    fields = cfg.to_dict()
    return run_cocotb(top, TB, build_dir=tmp_path / "link", testcase=testcase,
                      extra_env={"OPZO_CONFIG": json.dumps(fields), "LINK_DIV": 4,
                                 "LINK_TIMEOUT": 200, **env})


def test_cocotb_link_train_and_fuzz(tmp_path):
    """Training samples bit-exact with the golden model through the UART; a checkpoint
    dumped, trained away from and loaded back (restored, then exact with the model loaded
    the same way); then 1,000 seeded malformed packets answered exactly like the link
    model, state unchanged, valid command OK."""
    _run_tb(tmp_path, ["train_samples_bit_exact", "checkpoint_dump_and_reload", "fuzz_malformed_packets"],
            FUZZ_PACKETS=1000, SEED=0)


def test_cocotb_resident_link(tmp_path):
    """A top level with the resident system, over its UART: upload with a corrupted packet
    resent, checksum, shuffle, runs, counters, byte-exact with the models."""
    _run_tb(tmp_path, ["resident_over_the_link"], resident=(5, 3), SEED=2)


@pytest.mark.slow
def test_cocotb_link_fuzz_soak(tmp_path):
    for seed in (1, 2, 3):
        _run_tb(tmp_path / str(seed), ["fuzz_malformed_packets"], FUZZ_PACKETS=5000, SEED=seed)


def test_host_train_cli_sim_matches_golden_train(capsys):
    """``host train --sim`` encodes, orders and decays learning rates exactly as tools.train."""
    from boards.ulx3s.host import main
    from tools.train import train

    ref = train("digits", "opzo", "fixed", epochs=2, limit_train=30, limit_val=20, limit_test=15,
                test=True, progress=False, lr_decay_epochs=(1,))
    assert main(["train", "--sim", "--data", "digits", "--epochs", "2", "--limit-train", "30",
                 "--limit-val", "20", "--limit-test", "15", "--test", "--no-progress",
                 "--lr-decay-epochs", "1"]) == 0
    assert_same_epochs(capsys.readouterr().out.splitlines(), ref)


def assert_same_epochs(out, ref):
    """The host's printed lines ``out`` carry ``tools.train``'s result ``ref``: every epoch's
    validation and online training accuracy, and the test accuracy."""
    epochs = [ln for ln in out if ln.startswith("epoch")]
    assert len(epochs) == len(ref["history"]) == 2
    for line, h in zip(epochs, ref["history"]):
        assert f"validation {100 * h['val_accuracy']:6.2f} %" in line
        assert f"train (online) {100 * h['train_accuracy']:6.2f} %" in line
    assert f"test {100 * ref['test_accuracy']:6.2f} %" in out


# --- what the board was built from -----------------------------------------------------------

def test_pong_reports_fingerprints_and_seed():
    from golden.config import gateware_fingerprint, initial_state_fingerprint

    cfg = small_cfg().with_(seed=7)
    info = parse_info(info_words(cfg))
    assert info["gateware_fingerprint"] == gateware_fingerprint(cfg)
    assert info["initial_state_fingerprint"] == initial_state_fingerprint(cfg)
    assert info["seed"] == 7
    # the seed moves only the initial-state fingerprint; a shift moves only the gateware's
    assert gateware_fingerprint(cfg) == gateware_fingerprint(cfg.with_(seed=5, encoding="thermometer"))
    assert initial_state_fingerprint(cfg) != initial_state_fingerprint(cfg.with_(seed=5))
    assert gateware_fingerprint(cfg) != gateware_fingerprint(cfg.with_(noise_shift=3))
    assert initial_state_fingerprint(cfg) == initial_state_fingerprint(cfg.with_(noise_shift=3))


def test_seed_5_on_a_seed_0_board_writes_seed_5_initial_state():
    from boards.ulx3s.host import OpzoHost, SimTransport, _check_device, _prepare_training_state
    from golden.core import FixedCore

    board, want = small_cfg(), small_cfg().with_(seed=5)
    host = OpzoHost(SimTransport(board))
    info = _check_device(host, want)
    assert info["seed"] == 0
    assert _prepare_training_state(host, want, info, keep_state=True) == 0   # left alone
    assert np.array_equal(host.dump()["W1"], FixedCore(board).weights[0])
    assert _prepare_training_state(host, want, info, keep_state=False) > 0
    ref, got = FixedCore(want), host.dump()
    L = want.n_hidden_layers
    assert not np.array_equal(ref.weights[0], FixedCore(board).weights[0])
    for l in range(L):
        assert np.array_equal(got[f"W{l + 1}"], ref.weights[l])
        assert np.array_equal(got[f"M{l + 1}"], ref.feedback[l])
    assert np.array_equal(got["W_OUT"], ref.weights[L])
    assert np.array_equal(got["LFSR"][:, 0] & 0xFFFF_FFFF, ref.lfsr.states.astype(np.int64))
    assert got["PARAM"][:, 0].tolist() == [want.hidden_lr_shift, want.readout_lr_shift]


def test_host_refuses_a_bitstream_of_other_gateware():
    from boards.ulx3s.host import LinkFailure, OpzoHost, SimTransport, _check_device

    host = OpzoHost(SimTransport(small_cfg().with_(noise_shift=3)))
    with pytest.raises(LinkFailure, match="gateware fingerprint"):
        _check_device(host, small_cfg())


def test_host_lanes_flag_trains_as_golden_train_at_that_lane_count(capsys):
    """``--lanes 32`` (a bitstream of ``rtl.build --lanes 32``): the lane count moves the noise
    streams (one LFSR per lane), so the host must train the P = 32 golden model."""
    from boards.ulx3s.host import main
    from tools.train import train

    ref = train("digits", "opzo", "fixed", epochs=2, limit_train=30, limit_val=20, limit_test=15,
                test=True, progress=False, lr_decay_epochs=(1,), overrides={"lanes": 32})
    p8 = train("digits", "opzo", "fixed", epochs=2, limit_train=30, limit_val=20, limit_test=15,
               test=True, progress=False, lr_decay_epochs=(1,))
    assert ref["history"] != p8["history"]
    assert main(["train", "--sim", "--lanes", "32", "--data", "digits", "--epochs", "2",
                 "--limit-train", "30", "--limit-val", "20", "--limit-test", "15", "--test",
                 "--no-progress", "--lr-decay-epochs", "1"]) == 0
    assert_same_epochs(capsys.readouterr().out.splitlines(), ref)


def test_host_refuses_a_bitstream_of_another_lane_count():
    from boards.ulx3s.host import LinkFailure, OpzoHost, SimTransport, _check_device

    host = OpzoHost(SimTransport(small_cfg()))
    with pytest.raises(LinkFailure, match="'lanes': 4"):
        _check_device(host, small_cfg().with_(lanes=4))


def test_host_train_seed_5_on_seed_0_board_matches_golden_train(capsys):
    """``host train --seed 5`` against a simulated seed-0 bitstream trains from seed 5's
    state: the same per-epoch accuracies as tools.train with seed 5; with --keep-state it
    trains from the board's own (seed 0) weights instead."""
    from boards.ulx3s.host import main
    from tools.train import train

    args = ["--sim", "--sim-seed", "0", "--data", "digits", "--epochs", "2", "--limit-train", "30",
            "--limit-val", "30", "--no-progress", "--lr-decay-epochs", "1"]
    ref5 = train("digits", "opzo", "fixed", epochs=2, limit_train=30, limit_val=30, seed=5,
                 progress=False, lr_decay_epochs=(1,))
    assert main(["train", "--seed", "5", *args]) == 0
    out = capsys.readouterr()
    assert "wrote seed 5's initial weights" in out.err
    lines = [ln for ln in out.out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == len(ref5["history"]) == 2
    for line, h in zip(lines, ref5["history"]):
        assert f"validation {100 * h['val_accuracy']:6.2f} %" in line
        assert f"train (online) {100 * h['train_accuracy']:6.2f} %" in line


class _SilentTransport:
    name = "/dev/ttyFAKE"

    def write(self, data):
        pass

    def read(self, n, timeout):
        return b""

    def close(self):
        pass


def test_host_reports_a_board_that_does_not_answer():
    from boards.ulx3s.driver import LinkFailure, OpzoHost

    host = OpzoHost(_SilentTransport(), timeout=0.05)
    with pytest.raises(LinkFailure, match="no answer from the board on /dev/ttyFAKE.*bitstream is loaded"):
        host.ping()


def test_host_cli_missing_port_is_one_line(capsys):
    from boards.ulx3s.host import main

    assert main(["ping", "--port", "/nonexistent/ttyUSB9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot open serial port /nonexistent/ttyUSB9")
    assert "Traceback" not in err[0]


def test_baud_rates_the_clock_can_make():
    """3 Mbaud (the FT231X's maximum) is made within 2 % at 50, 60, 99 and 100 MHz, refused
    at 40 MHz with the error named; the top level refuses it at elaboration."""
    from boards.ulx3s.top import ULX3STop, check_baud

    assert check_baud(60e6, 3_000_000) == 3_000_000
    assert abs(check_baud(100e6, 3_000_000) / 3e6 - 1) < 0.011
    assert abs(check_baud(50e6, 3_000_000) / 3e6 - 1) < 0.02
    with pytest.raises(ValueError, match=r"baud 3000000 cannot be made from a 40 MHz clock: .* 2.6 % off"):
        check_baud(40e6, 3_000_000)
    with pytest.raises(ValueError, match="40 MHz"):
        ULX3STop(small_cfg(), freq_hz=40e6, baud=3_000_000, sim=True)
