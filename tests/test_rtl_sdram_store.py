"""The SDRAM-backed data set store (rtl/sdram_store.py) in the Amaranth simulator.

Its memory side talks to ``SdramResponder``, a behavioural stand-in for the SDRAM controller
written here: a dict of 16-bit words (never-written words read as a hash of the address,
so a read-modify-write that lost a byte shows), random back-pressure on requests and write
data, random latency and gaps on read data, a random delay before ``init_done``.

* parameters are validated, naming the parameter;
* rows written byte by byte in random column order (every read-modify-write case) read
  back exactly through the feeder's read port, in an arbitrary row order with repeats,
  random pauses, with and without the next-row hint; rows rewritten later read back new;
* the feeder with the SDRAM store and the order memory sends exactly the words of the
  golden code (the same test as tests/test_rtl_sample_order.py's with the block RAM store);
* the same write and read pattern through the real controller (boards/ulx3s/sdram.py),
  Verilog under cocotb, against the SDRAM model (tests/cocotb_sdram_store_tb.py): 0 data
  errors, 0 timing violations.
"""

from pathlib import Path

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from rtl.feeder import Feeder
from rtl.sample_order import SampleOrder
from rtl.sdram_store import SdramStore
from tests.test_rtl_sample_order import shuffled_run_scenario
from tests.feeder_driver import shuffle, feeder_run


def initial_word(addr):
    return (addr * 0x9E37 + 0x5A5A) & 0xFFFF


class SdramResponder:
    """Serves ``port`` (a :func:`rtl.sdram_store.memory_request_signature` seen from the
    controller's side) from ``self.words``; one request at a time, as the controller."""

    def __init__(self, port, seed, *, p_cmd=0.4, p_wdata=0.6, p_rdata=0.6, max_latency=8):
        self.port, self.rng = port, np.random.default_rng(seed)
        self.p_cmd, self.p_wdata, self.p_rdata = p_cmd, p_wdata, p_rdata
        self.max_latency = max_latency
        self.words = {}
        self.requests = {"read": 0, "write": 0, "row": 0}      # row: reads of more than a word

    async def run(self, ctx):
        p, rng = self.port, self.rng
        ctx.set(p.init_done, 0)
        for _ in range(int(rng.integers(5, 20))):
            _, _, early = await ctx.tick().sample(p.cmd.valid)
            assert not early, "a request before init_done"
        ctx.set(p.init_done, 1)
        while True:
            ready = int(rng.random() < self.p_cmd)
            ctx.set(p.cmd.ready, ready)
            _, _, valid, req = await ctx.tick().sample(p.cmd.valid, p.cmd.payload)
            if not (ready and valid):
                continue
            ctx.set(p.cmd.ready, 0)
            addr, length = int(req.addr), int(req.length)
            if req.write:
                self.requests["write"] += 1
                i = 0
                while i < length:
                    ready = int(rng.random() < self.p_wdata)
                    ctx.set(p.wdata.ready, ready)
                    _, _, valid, word = await ctx.tick().sample(p.wdata.valid, p.wdata.payload)
                    if ready and valid:
                        self.words[addr + i] = int(word)
                        i += 1
                ctx.set(p.wdata.ready, 0)
            else:
                self.requests["read"] += 1
                self.requests["row"] += length > 1
                await ctx.tick().repeat(int(rng.integers(1, self.max_latency + 1)))
                for i in range(length):
                    while rng.random() >= self.p_rdata:
                        await ctx.tick()
                    ctx.set(p.rdata.valid, 1)
                    ctx.set(p.rdata.payload, self.words.get(addr + i, initial_word(addr + i)))
                    while True:
                        _, _, taken = await ctx.tick().sample(p.rdata.ready)
                        if taken:
                            break
                    ctx.set(p.rdata.valid, 0)


async def write_bytes(ctx, store, writes):
    """``(row, col, byte)`` writes through the store's byte port, waiting on ``wready``."""
    for row, col, byte in writes:
        while not ctx.get(store.wready):
            await ctx.tick()
        ctx.set(store.we, 1)
        ctx.set(store.sample, row)
        ctx.set(store.col, col)
        ctx.set(store.wdata, byte)
        await ctx.tick()
        ctx.set(store.we, 0)


def test_init():
    s = SdramStore(784, 3500, 1000)
    assert (s.row_words, s.stride_bits, s.lanes, s.words) == (393, 9, 32, 25)
    assert SdramStore(8, 4, 2).row_words == 5


@pytest.mark.parametrize("args, kwargs, name", [
    ((0, 10, 10), {}, "n_inputs"),
    ((64, 0, 10), {}, "n_train"),
    ((64, 10, -1), {}, "n_test"),
    ((64, 10, 10), dict(addr_bits=0), "addr_bits"),
    ((64, 10, 10), dict(addr_bits=24.0), "addr_bits"),
    ((784, 3500, 1000), dict(addr_bits=20), "addr_bits"),      # 4500 rows of 512 words
    ((64, 10, 10), dict(length_bits=True), "length_bits"),
    ((784, 10, 10), dict(length_bits=8), "length_bits"),       # a row is 393 words
    ((64, 10, 10), dict(write_buffer=2), "write_buffer"),
])
def test_init_wrong_parameters_name_them(args, kwargs, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        SdramStore(*args, **kwargs)


@pytest.mark.parametrize("n_inputs, seed", [(5, 0), (40, 1), (64, 2)])
def test_rows_read_back_in_any_order(n_inputs, seed):
    rng = np.random.default_rng(seed)
    n_train, n_test = 5, 3
    rows = n_train + n_test
    dut = SdramStore(n_inputs, n_train, n_test, write_buffer=8)
    sdram = SdramResponder(dut.mem, seed + 10)
    image = rng.integers(0, 256, (rows, n_inputs + 1))        # the label is column n_inputs
    # every row's bytes in random column order: pairs complete, partial, split by others
    writes = [(int(r), int(c), int(image[r, c])) for r in rng.permutation(rows)
              for c in rng.permutation(n_inputs + 1)]
    order = [int(r) for r in rng.integers(0, rows, 14)] + [1, 1, 0]
    rewrite = [int(r) for r in rng.choice(rows, 2, replace=False)]

    async def read_rows(ctx, sequence):
        for i, row in enumerate(sequence):
            split, index = (0, row) if row < n_train else (1, row - n_train)
            nxt = sequence[i + 1] if i + 1 < len(sequence) else None
            hint = nxt is not None and rng.random() < 0.8
            ctx.set(dut.fetch.next_valid, 0)
            ctx.set(dut.read.split, split)
            ctx.set(dut.read.index, index)
            ctx.set(dut.read.word, 0)
            ctx.set(dut.fetch.want, 1)
            waited = 0
            while not ctx.get(dut.fetch.ready):
                await ctx.tick()
                waited += 1
                assert waited < 2000, f"row {row} never ready"
            if hint:
                ctx.set(dut.fetch.next_split, int(nxt >= n_train))
                ctx.set(dut.fetch.next_index, nxt - n_train if nxt >= n_train else nxt)
                ctx.set(dut.fetch.next_valid, 1)
            for w in [int(x) for x in rng.permutation(dut.words)] + [0]:
                ctx.set(dut.read.word, w)
                assert ctx.get(dut.fetch.ready)
                await ctx.tick()
                got = ctx.get(dut.read.pixels)
                for lane in range(dut.lanes):
                    c = w * 32 + lane
                    if c < n_inputs:
                        assert (got >> (8 * lane)) & 0xFF == image[row, c], (row, w, lane)
                assert ctx.get(dut.read.label) == image[row, n_inputs], row
                if rng.random() < 0.3:                 # the feeder stalls on the core
                    await ctx.tick().repeat(int(rng.integers(1, 30)))
            if rng.random() < 0.3:                     # between runs: nothing wanted
                ctx.set(dut.fetch.want, 0)
                ctx.set(dut.fetch.next_valid, 0)
                await ctx.tick().repeat(int(rng.integers(1, 40)))
        ctx.set(dut.fetch.want, 0)
        ctx.set(dut.fetch.next_valid, 0)

    async def tb(ctx):
        await write_bytes(ctx, dut, writes)
        await read_rows(ctx, order)
        # rewrite two rows (they may be cached) and read everything again
        new = rng.integers(0, 256, (2, n_inputs + 1))
        image[rewrite] = new
        await write_bytes(ctx, dut, [(r, int(c), int(image[r, c])) for r in rewrite
                                     for c in rng.permutation(n_inputs + 1)])
        await read_rows(ctx, rewrite + [int(r) for r in rng.permutation(rows)])

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(sdram.run, background=True)
    sim.add_testbench(tb)
    sim.run()
    # the SDRAM holds the layout the module docstring gives
    for r in range(rows):
        for c in range(n_inputs + 1):
            word = sdram.words[(r << dut.stride_bits) + c // 2]
            assert (word >> (8 * (c % 2))) & 0xFF == image[r, c], (r, c)
    assert sdram.requests["row"] >= rows


def test_feeder_with_sdram_store_sends_the_golden_words():
    """As tests/test_rtl_sample_order.py::test_feeder_reads_training_rows_in_order, with the
    SDRAM store behind the feeder: a shuffled training run (the next row through the order
    memory's second port) and a test run send exactly the golden words."""
    cfg, q, y, rows, want_train, want_test = shuffled_run_scenario()
    n_inputs, n_train, n_test = cfg.n_inputs, 6, 2

    m = Module()
    m.submodules.store = store = SdramStore(n_inputs, n_train, n_test)
    m.submodules.order = order = SampleOrder(n_train, cfg.seed)
    m.submodules.feeder = feeder = Feeder(cfg, n_train, n_test, ordered=True)
    wiring.connect(m, feeder.store, store.read)
    wiring.connect(m, feeder.fetch, store.fetch)
    wiring.connect(m, feeder.order, order.read)
    sdram = SdramResponder(store.mem, 7, max_latency=4)
    got, labels = [], []

    async def tb(ctx):
        await write_bytes(ctx, store, [(r, c, int(y[r] if c == n_inputs else q[r, c]))
                                       for r in range(n_train + n_test)
                                       for c in range(n_inputs + 1)])
        await shuffle(ctx, order, n_train)
        stall = np.random.default_rng(2)
        for train, count in ((1, 5), (0, 2)):
            words, seen = await feeder_run(ctx, feeder, train, count, stall)
            labels.extend(seen)
            got.append(words)

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(sdram.run, background=True)
    sim.add_testbench(tb)
    sim.run()
    assert got[0] == want_train
    assert got[1] == want_test
    assert labels == [int(y[r]) | 256 for r in rows] + [int(v) for v in y[n_train:]]
    # one row fetch per sample (the first of each run on demand, the others ahead), none wasted
    assert sdram.requests["row"] == 5 + 2


# --- the store on the real controller, Verilog under cocotb, against the SDRAM model ------

class StoreOnController(wiring.Component):
    """``SdramStore`` wired to ``SdramController``: the store's host and feeder ports, the
    controller's pads, ``init_done`` and ``refresh_overrun``."""

    def __init__(self, store, controller):
        self._store, self._ctrl = store, controller
        from boards.ulx3s.sdram import pad_signature
        members = {name: member for name, member in store.signature.members.items()
                   if name != "mem"}
        super().__init__({**members, "sdram": Out(pad_signature()), "init_done": Out(1),
                          "refresh_overrun": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.store = store = self._store
        m.submodules.ctrl = ctrl = self._ctrl
        for name, member in store.signature.members.items():
            if name == "mem":
                continue
            if not member.is_port:
                wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(store, name))
            elif member.flow == In:
                m.d.comb += getattr(store, name).eq(getattr(self, name))
            else:
                m.d.comb += getattr(self, name).eq(getattr(store, name))
        wiring.connect(m, store.mem.cmd, ctrl.cmd)
        wiring.connect(m, store.mem.wdata, ctrl.wdata)
        wiring.connect(m, ctrl.rdata, store.mem.rdata)
        wiring.connect(m, ctrl.sdram, wiring.flipped(self.sdram))
        m.d.comb += [store.mem.init_done.eq(ctrl.init_done), self.init_done.eq(ctrl.init_done),
                     self.refresh_overrun.eq(ctrl.refresh_overrun)]
        return m


@pytest.mark.parametrize("n_inputs, n_train, n_test, config, seed", [
    (40, 6, 3, dict(clk_freq=100e6, cas_latency=3, t_powerup=2000.0), 1),
    (784, 3, 1, dict(clk_freq=50e6, cas_latency=2, t_powerup=2000.0), 2),    # MNIST rows
])
def test_cocotb_store_on_the_controller(tmp_path, n_inputs, n_train, n_test, config, seed):
    """Rows written byte by byte and read back in any order through SdramController and the
    SDRAM model: 0 data errors, 0 timing violations."""
    import json

    from boards.ulx3s.sdram import SdramConfig, SdramController
    from sim.runner import run_cocotb

    cfg = SdramConfig(**config)
    dut = StoreOnController(SdramStore(n_inputs, n_train, n_test, addr_bits=cfg.addr_bits),
                            SdramController(cfg))
    run_cocotb(dut, Path(__file__).parent / "cocotb_sdram_store_tb.py",
               build_dir=tmp_path / "store", toplevel="top",
               extra_env={"SDRAM_CONFIG": json.dumps(config), "N_INPUTS": n_inputs,
                          "N_TRAIN": n_train, "N_TEST": n_test, "SEED": seed})


# --- the resident system with its data set in SDRAM -------------------------------------------

def test_resident_core_store_option():
    from rtl.resident_core import ResidentCore
    from tests.test_rtl_resident_core import small_cfg
    with pytest.raises(ValueError, match=r"\bstore\b"):
        ResidentCore(small_cfg(), 6, 3, store="flash")
    with pytest.raises(ValueError, match=r"\bsdram_addr_bits\b"):
        ResidentCore(small_cfg(), 6, 3, store="sdram", sdram_addr_bits=3)
    assert "mem" in ResidentCore(small_cfg(), 6, 3, store="sdram").signature.members


def test_resident_core_with_sdram_store_answers_as_with_block_ram():
    """tests/test_rtl_resident_core.py's scenario (upload with STOREs that now wait on the
    write queue, checksums, every error, two shuffled epochs, test runs, counters, confusion
    rows, core commands and core state read back) on ``ResidentCore(store="sdram")`` with
    the behavioural SDRAM: every answer word equals the model's, and the answers are the
    same words as the block RAM store's."""
    from golden.resident_model import ResidentModel
    from rtl.resident_core import ResidentCore
    from sim.pysim import run_commands
    from sim.scenario import Scoreboard
    from tests.test_rtl_resident_core import scenario, small_cfg

    class Recorder(Scoreboard):
        def __init__(self, cfg):
            super().__init__(cfg)
            self.words = []

        def check(self, word):
            self.words.append(word)
            return super().check(word)

    cfg = small_cfg()
    n_train, n_test = 6, 3
    cmds = scenario(cfg, n_train, n_test)
    answers, cycles = {}, {}
    for store in ("bram", "sdram"):
        dut = ResidentCore(cfg, n_train, n_test, store=store)
        board = Recorder(cfg)
        board.model = ResidentModel(cfg, n_train, n_test)
        background = [SdramResponder(dut.mem, 5, max_latency=6).run] if store == "sdram" else []
        cycles[store] = run_commands(dut, cmds, board, seed=3, idle=0.2, backpressure=0.3,
                                     background=background)
        assert not board.mismatches, (store, board.report())
        assert board.checked == len(board.expected) > 300
        answers[store] = board.words
    assert answers["sdram"] == answers["bram"]
    print(f"scenario cycles: {cycles}")
