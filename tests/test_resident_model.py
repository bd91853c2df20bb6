"""The resident system's reference model (golden/resident_model.py), its command set
(golden/resident_protocol.py) and the sample order (golden/sample_order.py)."""

import numpy as np
import pytest

from golden.config import preset
from golden.core import FixedCore
from golden.data import load_dataset
from golden.input_encoding import TEST, TRAIN, encoder_lanes, encoder_seeds, quantise_pixels, \
    spikes_from_states
from golden.noise import LfsrBank
from golden.protocol import Status, parse_response
from golden.resident_model import ResidentModel
from golden.resident_protocol import (ResOp, checksum_update, expected_checksum, header,
                                      resident_command_length, store_command, store_commands)
from golden.sample_order import DRAW_BITS, SampleOrder, shuffle_seed


def small_cfg(**kw):
    return preset("digits", hidden=(16,), timesteps=4, **kw)


def run(model, cmds):
    out = []
    for c in cmds:
        rsp = []
        for w in c:
            rsp += model.feed(w)
        out.append(rsp)
    return out


# --- sample order -----------------------------------------------------------------------------

def test_shuffle_by_hand():
    """Three rows: draws from the LFSR stepped bit by bit, j = r (i + 1) >> 16."""
    s = shuffle_seed(0)
    bank = LfsrBank(32, [s])
    draws = []
    for _ in range(2):
        r = 0
        for k in range(DRAW_BITS):
            r |= (int(bank.states[0]) & 1) << k
            bank.step()
        draws.append(r)
    order = [0, 1, 2]
    for i, r in zip((2, 1), draws):
        j = (r * (i + 1)) >> 16
        order[i], order[j] = order[j], order[i]
    o = SampleOrder(3, 0)
    assert o.shuffle(3).tolist() == order
    assert o.draw() != draws[0]       # the LFSR ran on


def test_shuffle_is_a_permutation_and_restart_repeats_it():
    o = SampleOrder(1000, 7)
    first = o.shuffle(1000).copy()
    assert sorted(first.tolist()) == list(range(1000)) and first.tolist() != list(range(1000))
    second = o.shuffle(1000).copy()
    assert sorted(second.tolist()) == list(range(1000)) and second.tolist() != first.tolist()
    o.restart()
    assert o.shuffle(1000).tolist() == first.tolist()
    # a partial shuffle leaves the tail alone
    o.restart()
    assert o.shuffle(10)[10:].tolist() == list(range(10, 1000))


def test_shuffle_refuses_more_rows_than_it_holds():
    with pytest.raises(ValueError, match="n must be in"):
        SampleOrder(5, 0).shuffle(6)
    with pytest.raises(ValueError, match="n_train"):
        SampleOrder(0, 0)


# --- commands -----------------------------------------------------------------------------------

def test_command_lengths():
    assert resident_command_length(header(ResOp.STORE, 3), 64) == 6
    assert resident_command_length(header(ResOp.RUN, 3), 64) == 1
    assert resident_command_length(2 << 28, 64) == 3        # STEP: header + 2 spike words


def test_store_checksum_info_and_errors():
    cfg = small_cfg()
    m = ResidentModel(cfg, 4, 2)
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (6, 64))
    labels = rng.integers(0, 10, 6)
    answers = run(m, store_commands(pixels, labels))
    assert all(a == [ResOp.STORE << 28] for a in answers)
    assert (m.pixels == pixels).all() and (m.labels == labels).all()
    s1, s2 = expected_checksum(pixels, labels)
    assert run(m, [[header(ResOp.CHECKSUM, flag=True)]]) == [[ResOp.CHECKSUM << 28 | 1, s2 << 16 | s1]]
    assert m.checksum == (0, 0)
    assert run(m, [[header(ResOp.STORE_INFO)]]) == [[ResOp.STORE_INFO << 28 | 3, 4, 2, 64]]
    before = m.pixels.copy()
    bad = [store_command(6, 0, b"\x01" * 16), store_command(0, 65, b"\x01" * 16)]
    for a in run(m, bad):
        assert parse_response(a[0])[1] == Status.ERR_ADDR
    assert (m.pixels == before).all() and m.checksum == (0, 0)
    # a STORE at the label column writes the label and ignores the 15 bytes after it
    run(m, [store_command(1, 64, bytes([7] * 16))])
    assert m.labels[1] == 7 and m.checksum == checksum_update((0, 0), 7, 1, 64)
    for cmd, status in (([header(ResOp.RUN, 0, flag=True)], Status.ERR_VALUE),
                        ([header(ResOp.RUN, 5, flag=True)], Status.ERR_VALUE),
                        ([header(ResOp.RUN, 3)], Status.ERR_VALUE),
                        ([header(ResOp.SHUFFLE, 5)], Status.ERR_VALUE),
                        ([header(ResOp.CONFUSION, 10)], Status.ERR_ADDR)):
        state = m.state()
        assert parse_response(run(m, [cmd])[0][0])[1] == status
        assert state["order"].tolist() == m.state()["order"].tolist()
        assert state["counters"] == m.state()["counters"]


def test_epochs_equal_fixed_core_fed_by_hand():
    """Two shuffled training epochs and a test run through the commands equal FixedCore
    trained sample by sample on the same rows and spikes; counters and confusion agree."""
    cfg = small_cfg()
    ds = load_dataset("digits")
    n_train, n_test = 30, 12
    q = quantise_pixels(np.concatenate([ds.x_train[:n_train], ds.x_test[:n_test]]))
    y = np.concatenate([ds.y_train[:n_train], ds.y_test[:n_test]])
    m = ResidentModel(cfg, n_train, n_test)
    run(m, store_commands(q, y))

    ref = FixedCore(cfg)
    order = SampleOrder(n_train, cfg.seed)
    lanes = encoder_lanes(cfg.n_inputs)
    bank = encoder_seeds(cfg.seed, TRAIN, lanes)
    for epoch in range(2):
        run(m, [[header(ResOp.CLEAR)], [header(ResOp.SHUFFLE, n_train)],
                [header(ResOp.RUN, n_train, flag=True)], [header(ResOp.RUN, n_test)]])
        correct = 0
        for row in order.shuffle(n_train):
            x, bank = spikes_from_states(q[row][None], cfg.timesteps, bank)
            correct += ref.run_sample(x[0], int(y[row]), train=True) == y[row]
        x, _ = spikes_from_states(q[n_train:], cfg.timesteps, encoder_seeds(cfg.seed, TEST, lanes))
        preds = [ref.run_sample(x[k], int(y[n_train + k]), train=False) for k in range(n_test)]
        test_correct = sum(int(p == t) for p, t in zip(preds, y[n_train:]))
        counters = run(m, [[header(ResOp.COUNTERS)]])[0][1:]
        assert counters == [n_train, correct, n_test, test_correct, 0]
        row = run(m, [[header(ResOp.CONFUSION, 1 << 16 | int(y[n_train]))]])[0][1:]
        assert row == [sum(1 for p, t in zip(preds, y[n_train:]) if t == y[n_train] and p == c)
                       for c in range(cfg.n_outputs)]
    for key, value in ref.state().items():
        got = m.state()[key]
        if isinstance(value, list):
            assert all(np.array_equal(a, b) for a, b in zip(got, value)), key
        else:
            assert np.array_equal(got, value), key


def test_clear_with_flag_restarts_the_train_bank():
    cfg = small_cfg()
    m = ResidentModel(cfg, 2, 1)
    run(m, store_commands(np.full((3, 64), 128), [1, 2, 3]))
    run(m, [[header(ResOp.RUN, 2, flag=True)]])
    assert m.train_bank != encoder_seeds(cfg.seed, TRAIN, 32)
    run(m, [[header(ResOp.CLEAR, flag=True)]])
    assert m.train_bank == encoder_seeds(cfg.seed, TRAIN, 32)
    assert m.counters["train_seen"] == 0
