"""The resident result counter (rtl/result_counter.py) on synthetic response streams."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden.protocol import Op, Status, response
from rtl.result_counter import ResultCounter


def test_refuses_bad_parameters():
    with pytest.raises(ValueError, match="n_outputs"):
        ResultCounter(1)


def test_counts_and_confusion():
    m = 4
    rng = np.random.default_rng(0)
    dut = ResultCounter(m)
    samples = [(int(rng.integers(m)), bool(rng.random() < 0.6), int(rng.integers(m)))
               for _ in range(30)]
    bad = {7, 19}                     # these samples' END fails (ERR_STATE): not counted
    words, labels = [], []
    for k, (lab, train, pred) in enumerate(samples):
        labels.append(lab | (int(train) << 8))
        words += [response(Op.START, Status.OK)] + [response(Op.STEP, Status.OK)] * 2
        if k in bad:
            words += [response(Op.END, Status.ERR_STATE)]
        else:
            words += [response(Op.END, Status.OK, 1 + m), pred] + \
                     [int(v) & 0xFFFF_FFFF for v in rng.integers(-9, 9, m)]
        if k == 3:
            words += [response(Op.READ, Status.OK, 1), 0x50000000]    # a value, not a header
    good = [s for k, s in enumerate(samples) if k not in bad]
    want_cm = np.zeros((2, m, m), dtype=int)
    for lab, train, pred in good:
        want_cm[0 if train else 1, lab, pred] += 1
    preds = []

    async def tb(ctx):
        wi = li = 0
        while wi < len(words):
            v = int(rng.random() < 0.7)
            lv = int(rng.random() < 0.5) and li < len(labels)
            ctx.set(dut.resp.valid, v)
            ctx.set(dut.resp.payload, words[wi])
            ctx.set(dut.label.valid, lv)
            ctx.set(dut.label.payload, labels[li] if li < len(labels) else 0)
            await ctx.delay(1e-10)
            took = v and ctx.get(dut.resp.ready)
            ltook = lv and ctx.get(dut.label.ready)
            if ctx.get(dut.pred_valid):
                preds.append((ctx.get(dut.pred), ctx.get(dut.pred_label), ctx.get(dut.pred_train)))
            await ctx.tick()
            wi += bool(took)
            li += bool(ltook)
        ctx.set(dut.resp.valid, 0)
        await ctx.tick().repeat(3)
        assert li == len(labels)
        assert ctx.get(dut.train_seen) == sum(t for _, t, _ in good)
        assert ctx.get(dut.train_correct) == sum(t and l == p for l, t, p in good)
        assert ctx.get(dut.test_seen) == sum(not t for _, t, _ in good)
        assert ctx.get(dut.test_correct) == sum((not t) and l == p for l, t, p in good)
        assert ctx.get(dut.errors) == len(bad)
        for s in range(2):
            for lab in range(m):
                for p in range(m):
                    ctx.set(dut.cm_split, s)
                    ctx.set(dut.cm_label, lab)
                    ctx.set(dut.cm_pred, p)
                    await ctx.tick()
                    assert ctx.get(dut.cm_count) == want_cm[s, lab, p], (s, lab, p)
        ctx.set(dut.clear, 1)
        await ctx.tick()
        ctx.set(dut.clear, 0)
        await ctx.tick().until(~dut.busy)
        assert ctx.get(dut.train_seen) == 0 and ctx.get(dut.errors) == 0
        ctx.set(dut.cm_split, 1)
        ctx.set(dut.cm_label, samples[0][0])
        ctx.set(dut.cm_pred, samples[0][2])
        await ctx.tick()
        assert ctx.get(dut.cm_count) == 0

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert preds == [(p, l, int(t)) for l, t, p in good]
