"""cocotb test module: the ULX3S top level (PLL bypassed) driven over its UART pins.

Run by ``tests/test_host_link.py`` through :func:`sim.runner.run_cocotb`.  The host side
uses the host driver's own framing (:mod:`boards.ulx3s.protocol`: ``encode_packet``,
``pack_commands``, ``Decoder``); expected answers come from
:class:`boards.ulx3s.protocol.LinkModel` (link framing rules) in front of
:class:`golden.command_model.CoreModel` (the golden core), compared byte for byte.

Environment: ``OPZO_CONFIG`` (JSON config fields), ``LINK_DIV`` (clock cycles per UART bit),
``LINK_TIMEOUT`` (link timeout in cycles), ``FUZZ_PACKETS``, ``SEED``, ``RESIDENT`` (JSON
``[n_train, n_test]`` of a top level built with the resident system; the model is then
:class:`golden.resident_model.ResidentModel`).
"""

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, Timer

from boards.ulx3s.protocol import (MAX_WORDS, SYNC, Decoder, LinkError, LinkModel, PacketType,
                                   crc16, encode_packet, info_words, pack_commands,
                                   parse_error_word)
from golden.config import CoreConfig
from golden.protocol import Mem, Op, command_words
from sim.scenario import random_samples, sample_commands, state_reads

PERIOD_NS = 10


def load_config():
    fields = json.loads(os.environ["OPZO_CONFIG"])
    fields["hidden"] = tuple(fields["hidden"])
    return CoreConfig(**fields)


class UartHost:
    """Bit-level UART on the DUT pins plus the reference model of the device."""

    def __init__(self, dut, cfg):
        self.dut, self.cfg = dut, cfg
        self.div = int(os.environ.get("LINK_DIV", "4"))
        self.timeout = int(os.environ.get("LINK_TIMEOUT", "200"))
        self.bit_ns = self.div * PERIOD_NS
        self.rx = bytearray()          # bytes the device sent
        resident = json.loads(os.environ.get("RESIDENT", "null"))
        core = None
        if resident:
            from golden.resident_model import ResidentModel
            core = ResidentModel(cfg, *resident)
        self.model = LinkModel(cfg, core)
        self.expected = bytearray()    # bytes the model says the device must send
        Clock(dut.clk, PERIOD_NS, unit="ns").start()
        dut.uart_rx.value = 1
        dut.button.value = 0
        self._task = None

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 4)
        self.dut.rst.value = 0
        await ClockCycles(self.dut.clk, 4)
        self._task = cocotb.start_soon(self._receive())

    async def _receive(self):
        tx = self.dut.uart_tx
        while True:
            await FallingEdge(tx)
            await Timer(self.bit_ns // 2, unit="ns")
            assert int(tx.value) == 0, "start bit glitch on uart_tx"
            v = 0
            for k in range(8):
                await Timer(self.bit_ns, unit="ns")
                v |= int(tx.value) << k
            await Timer(self.bit_ns, unit="ns")
            assert int(tx.value) == 1, "bad stop bit on uart_tx"
            self.rx.append(v)

    async def send(self, data):
        """Send bytes back to back and feed them to the model."""
        pin = self.dut.uart_rx
        for b in data:
            for bit in [0] + [(b >> k) & 1 for k in range(8)] + [1]:
                pin.value = bit
                await Timer(self.bit_ns, unit="ns")
        self.expected += self.model.feed(data)

    async def pause(self):
        """Stay silent for longer than the link timeout (an open packet times out)."""
        await ClockCycles(self.dut.clk, self.timeout + 8 * self.div)
        self.expected += self.model.timeout()

    async def settle(self, max_cycles=2_000_000, exact=True):
        """Wait until the device sent everything the model expects (and nothing more).

        ``exact=False``: only the byte count must match (used to read back device state the
        model does not share, e.g. weights trained by an earlier test in the same simulation).
        """
        step = 20 * self.div
        waited = 0
        while len(self.rx) < len(self.expected) and waited < max_cycles:
            await ClockCycles(self.dut.clk, step)
            waited += step
        await ClockCycles(self.dut.clk, 24 * self.div)   # any extra byte would show up now
        if not exact:
            assert len(self.rx) == len(self.expected)
            self.expected = bytearray(self.rx)
            return
        assert bytes(self.rx) == bytes(self.expected), (
            f"device bytes differ from the model after {len(self.expected)} expected bytes:\n"
            f"got      {bytes(self.rx[:len(self.expected) + 16]).hex()}\n"
            f"expected {bytes(self.expected).hex()}")

    def packets(self):
        return Decoder().feed(bytes(self.rx))


async def read_state(host, cfg, exact=True):
    """Every state entry through READ commands; returns the list of values."""
    return [p.words[1] for p in await exchange(host, state_reads(cfg), exact)]


@cocotb.test()
async def train_samples_bit_exact(dut):
    cfg = load_config()
    host = UartHost(dut, cfg)
    await host.reset()
    # PING -> PONG with the configuration
    await host.send(encode_packet(PacketType.PING))
    await host.settle()
    (pong,) = host.packets()
    assert pong.type == PacketType.PONG and pong.words == info_words(cfg)
    rng = np.random.default_rng(int(os.environ.get("SEED", "0")))
    samples = random_samples(cfg, rng, 4, train_fraction=0.75)
    samples[0] = (samples[0][0], samples[0][1], True)
    for n, (spikes, label, train) in enumerate(samples):
        cmds = sample_commands(spikes, label, train)
        if n % 2:       # one packet per command
            for cmd in cmds:
                await host.send(encode_packet(PacketType.CMD, cmd))
        else:           # whole commands packed into as few packets as possible
            for pkt, _ in pack_commands(cmds):
                await host.send(pkt)
        await host.settle()
    # protocol errors of the core come through unchanged
    for cmd in (command_words(Op.START, train=True, label=cfg.n_outputs), command_words(Op.END),
                [0xF << 28]):
        await host.send(encode_packet(PacketType.CMD, cmd))
    await host.settle()
    values = await read_state(host, cfg)
    assert len(values) == len(state_reads(cfg))
    dut._log.info(f"{len(host.rx)} bytes received, all equal to the model's")


def _fuzz_packet(rnd, cfg):
    """(bytes, needs_pause) of one malformed packet."""
    kind = rnd.randrange(9)
    write = command_words(Op.WRITE, mem=Mem.W1, row=rnd.randrange(cfg.hidden[0]),
                          col=rnd.randrange(cfg.n_inputs), value=rnd.randrange(-100, 100))
    good = encode_packet(PacketType.CMD, write)
    if kind == 0:          # flipped bit anywhere after SYNC
        b = bytearray(good)
        i = rnd.randrange(1, len(b))
        b[i] ^= 1 << rnd.randrange(8)
        if i == 2:         # a corrupted LEN: pad so that the packet completes, then pause
            return bytes(b), True
        return bytes(b), False
    if kind == 1:          # LEN above the maximum, followed by junk without SYNC
        junk = bytes(rnd.choice([x for x in range(256) if x != SYNC]) for _ in range(rnd.randrange(6)))
        return bytes([SYNC, PacketType.CMD, rnd.randrange(MAX_WORDS + 1, 256)]) + junk, False
    if kind == 2:          # good CRC, incomplete command (STEP without spikes, short WRITE)
        words = rnd.choice([[Op.STEP << 28], write[:2], write + [Op.READ << 28]])
        return encode_packet(PacketType.CMD, words), False
    if kind == 3:          # unknown type
        t = rnd.choice([x for x in range(256) if x not in (PacketType.CMD, PacketType.PING)])
        return encode_packet(t, write[:rnd.randrange(4)]), False
    if kind == 4:          # truncated packet, then silence
        return good[:rnd.randrange(1, len(good))], True
    if kind == 5:          # garbage without SYNC: ignored
        return bytes(rnd.choice([x for x in range(256) if x != SYNC]) for _ in range(rnd.randrange(1, 12))), False
    if kind == 6:          # PING with a payload
        return encode_packet(PacketType.PING, [rnd.getrandbits(32)]), False
    if kind == 7:          # empty CMD
        return encode_packet(PacketType.CMD, []), False
    # wrong CRC byte order
    crc = crc16(good[1:-2])
    if (crc & 0xFF) == (crc >> 8):
        return good[:-1] + bytes([good[-1] ^ 1]), False
    return good[:-2] + bytes([crc >> 8, crc & 0xFF]), False


@cocotb.test()
async def fuzz_malformed_packets(dut):
    cfg = load_config()
    host = UartHost(dut, cfg)
    await host.reset()
    n = int(os.environ.get("FUZZ_PACKETS", "1000"))
    rnd = random.Random(int(os.environ.get("SEED", "0")))
    # The memories keep what an earlier test in this simulation trained, which this test's
    # fresh model does not know: the state is compared device against device.
    before = await read_state(host, cfg, exact=False)
    mark = len(host.rx)
    fed, feed = [], host.model.core.feed
    host.model.core.feed = lambda w: (fed.append(w), feed(w))[1]
    batch = 0
    for k in range(n):
        data, needs_pause = _fuzz_packet(rnd, cfg)
        await host.send(data)
        batch += 1
        if needs_pause or batch == 16 or k == n - 1:
            await host.pause()
            await host.settle()
            batch = 0
    pkts = Decoder().feed(bytes(host.rx[mark:]))
    codes = {}
    for p in pkts:
        assert p.type == PacketType.ERROR, p
        code = parse_error_word(p.words[0])[0]
        codes[code.name] = codes.get(code.name, 0) + 1
    dut._log.info(f"{n} malformed packets: error packets {codes}")
    assert set(codes) >= {e.name for e in (LinkError.BAD_CRC, LinkError.BAD_LENGTH,
                                          LinkError.BAD_TYPE, LinkError.TIMEOUT)}
    assert fed == [], "the link model forwarded words of a malformed packet"
    host.model.core.feed = feed
    after = await read_state(host, cfg, exact=False)
    assert after == before, "state changed during the fuzz"
    # a valid command still works
    start = len(host.rx)
    await host.send(encode_packet(PacketType.CMD, command_words(Op.READ, mem=Mem.PARAM, row=0, col=0)))
    await host.settle(exact=False)
    (p,) = Decoder().feed(bytes(host.rx[start:]))
    assert p.type == PacketType.RESP and p.words[1] == cfg.hidden_lr_shift


def checkpoint_entries(cfg):
    """``(mem, row, col)`` of everything a checkpoint holds: weights, feedback matrices,
    baseline, LFSR states and learning-rate parameters (what ``host dump`` saves)."""
    L, sizes, m = cfg.n_hidden_layers, cfg.sizes, cfg.n_outputs
    out = []
    for l in range(L):
        out += [(Mem.W1 + l, j, i) for j in range(sizes[l + 1]) for i in range(sizes[l])]
    out += [(Mem.W_OUT, k, j) for k in range(m) for j in range(sizes[L])]
    for l in range(L):
        out += [(Mem.M1 + l, j, k) for j in range(sizes[l + 1]) for k in range(m)]
    out += [(Mem.BASELINE, k, 0) for k in range(m)] + [(Mem.LFSR, p, 0) for p in range(cfg.lanes)]
    return out + [(Mem.PARAM, r, 0) for r in range(2)]


async def exchange(host, cmds, exact):
    """Send whole commands packed into packets; returns the RESP packets, all status OK."""
    start = len(host.rx)
    for pkt, _ in pack_commands(cmds):
        await host.send(pkt)
    await host.settle(exact=exact)
    pkts = Decoder().feed(bytes(host.rx[start:]))
    assert len(pkts) == len(cmds) and all(p.type == PacketType.RESP for p in pkts)
    assert all((p.words[0] >> 24) & 0xF == 0 for p in pkts), "a command was refused"
    return pkts


@cocotb.test()
async def checkpoint_dump_and_reload(dut):
    """Dump the (trained) device over the link, train on so that it moves away, load the
    dump back: every entry is restored, and the device then answers a training sample
    exactly like the golden model loaded with the same checkpoint."""
    cfg = load_config()
    host = UartHost(dut, cfg)
    await host.reset()
    entries = checkpoint_entries(cfg)
    reads = [command_words(Op.READ, mem=mem, row=r, col=c) for mem, r, c in entries]
    # the memories keep what an earlier test trained, which this test's fresh model does not know
    dump = [p.words[1] for p in await exchange(host, reads, exact=False)]
    rng = np.random.default_rng(int(os.environ.get("SEED", "0")) + 7)
    for spikes, label, _ in random_samples(cfg, rng, 2, train_fraction=1.0):
        await exchange(host, sample_commands(spikes, label, True), exact=False)
    moved = [p.words[1] for p in await exchange(host, reads, exact=False)]
    assert moved != dump, "training did not change the state"
    writes = [command_words(Op.WRITE, mem=mem, row=r, col=c, value=v)
              for (mem, r, c), v in zip(entries, dump)]
    await exchange(host, writes, exact=False)            # the model takes the same writes
    again = [p.words[1] for p in await exchange(host, reads, exact=False)]
    assert again == dump, "the checkpoint was not restored"
    # device and model now hold the same checkpoint: byte-exact from here on
    for spikes, label, train in random_samples(cfg, rng, 2, train_fraction=1.0):
        await exchange(host, sample_commands(spikes, label, train), exact=True)
    await exchange(host, reads, exact=True)
    dut._log.info(f"checkpoint of {len(entries)} entries restored; 2 samples exact afterwards")


@cocotb.test()
async def resident_over_the_link(dut):
    """A resident top level through its UART: upload (one STORE packet corrupted on the way,
    rejected with BAD_CRC, store unchanged, sent again), checksum, shuffle, a training and a
    test run, counters, a confusion row, core commands in between: byte-exact with the link
    model in front of the resident model."""
    from golden.resident_protocol import ResOp, header, store_commands

    cfg = load_config()
    n_train, n_test = json.loads(os.environ["RESIDENT"])
    host = UartHost(dut, cfg)
    await host.reset()
    rng = np.random.default_rng(int(os.environ.get("SEED", "0")))
    q = rng.integers(0, 256, (n_train + n_test, cfg.n_inputs))
    y = rng.integers(0, cfg.n_outputs, n_train + n_test)
    cmds = [[header(ResOp.STORE_INFO)], [header(ResOp.CHECKSUM, flag=True)]] + store_commands(q, y)
    packets = pack_commands(cmds)
    bad = bytearray(packets[0][0])
    bad[9] ^= 0x10                                   # a payload bit: the CRC fails
    await host.send(bytes(bad))
    await host.settle()
    errors = [p for p in host.packets() if p.type == PacketType.ERROR]
    assert [parse_error_word(p.words[0])[0] for p in errors] == [LinkError.BAD_CRC]
    for pkt, _ in packets:                           # the whole upload, the bad packet again
        await host.send(pkt)
    await host.settle()
    core = host.model.core
    assert (core.pixels == q).all() and (core.labels == y).all()
    tail = [[header(ResOp.CHECKSUM)], [header(ResOp.SHUFFLE, n_train)],
            [header(ResOp.RUN, n_train, flag=True)], command_words(Op.READ, mem=Mem.W_OUT, row=0, col=1),
            [header(ResOp.RUN, n_test)], [header(ResOp.COUNTERS)],
            [header(ResOp.CONFUSION, int(y[n_train]) | 1 << 16)], [header(ResOp.RUN, n_train + 1, flag=True)]]
    for pkt, _ in pack_commands(tail):
        await host.send(pkt)
    await host.settle()
    assert core.counters["train_seen"] == n_train and core.counters["test_seen"] == n_test
    dut._log.info(f"resident link: {len(host.rx)} bytes, all equal to the model's; "
                  f"counters {core.counters}")


async def press_button(host, cycles=4):
    """The board's reset (``button``: the whole linked core, link and UART included),
    mirrored in the model (:meth:`LinkModel.reset`)."""
    host.dut.button.value = 1
    await ClockCycles(host.dut.clk, cycles)
    host.dut.button.value = 0
    await ClockCycles(host.dut.clk, 2)
    host.model.reset()


async def send_bits(host, bits):
    for bit in bits:
        host.dut.uart_rx.value = bit
        await Timer(host.bit_ns, unit="ns")


@cocotb.test()
async def resets_mid_packet_and_mid_response(dut):
    """The reset button pressed in the middle of a host packet (between bytes, in the middle
    of a byte, with the rest of the packet still arriving after it) and in the middle of the
    device's answer.  Nothing of a cut packet reaches the core; a cut answer is a prefix of
    the model's; every later packet is answered byte for byte like the link model (which
    takes the same reset); the registers are back at their reset values and the complete
    state, read through READ commands, equals the model's.  Must run first in its
    simulation (the model starts from the initial state)."""
    cfg = load_config()
    host = UartHost(dut, cfg)
    await host.reset()
    rnd = random.Random(int(os.environ.get("SEED", "0")))
    rng = np.random.default_rng(int(os.environ.get("SEED", "0")))
    model = host.model.core

    async def move_registers():
        # PARAM, an LFSR state and (by training) the baselines away from their reset values
        await exchange(host, [command_words(Op.WRITE, mem=Mem.PARAM, row=0, col=0,
                                            value=cfg.hidden_lr_shift + 1),
                              command_words(Op.WRITE, mem=Mem.LFSR, row=0, col=0, value=0x1234),
                              command_words(Op.WRITE, mem=Mem.BASELINE, row=0, col=0, value=3)], True)
        for spikes, label, _ in random_samples(cfg, rng, 1):
            await exchange(host, sample_commands(spikes, label, True), True)
        assert model.cfg.hidden_lr_shift != cfg.hidden_lr_shift and model.core.baseline.any()

    def cut_packet():
        """A CMD packet that would change weights, M, a baseline and PARAM, and the entries
        it writes."""
        entries = [(Mem.W1, rnd.randrange(cfg.hidden[0]), rnd.randrange(cfg.n_inputs)),
                   (Mem.W_OUT, rnd.randrange(cfg.n_outputs), rnd.randrange(cfg.hidden[-1])),
                   (Mem.M1, rnd.randrange(cfg.hidden[0]), rnd.randrange(cfg.n_outputs)),
                   (Mem.BASELINE, rnd.randrange(cfg.n_outputs), 0), (Mem.PARAM, 1, 0)]
        cmds = [command_words(Op.WRITE, mem=mem, row=r, col=c,
                              value=(cfg.readout_lr_shift + 1) if mem == Mem.PARAM else
                              rnd.choice([-5, -3, 3, 5]) + (model.read(mem, r, c) if mem != Mem.BASELINE else 0))
                for mem, r, c in entries]
        cmds.append(command_words(Op.START, train=True, label=0))
        return encode_packet(PacketType.CMD, [w for c in cmds for w in c]), entries

    async def after_reset():
        """The device answers, with the registers at their reset values and the cut
        packet's entries untouched (the READ answers are compared with the model's)."""
        reads = [command_words(Op.READ, mem=Mem.PARAM, row=r, col=0) for r in (0, 1)]
        reads += [command_words(Op.READ, mem=Mem.LFSR, row=0, col=0),
                  command_words(Op.READ, mem=Mem.BASELINE, row=0, col=0), command_words(Op.END)]
        await host.send(encode_packet(PacketType.PING))
        for pkt, _ in pack_commands(reads + [command_words(Op.READ, mem=m, row=r, col=c)
                                             for m, r, c in entries]):
            await host.send(pkt)
        await host.settle()

    cases = []
    # 1. cut between bytes: after the header, inside the payload, before the last CRC byte
    for cut in (3, None, -1):
        await move_registers()
        pkt, entries = cut_packet()
        n = len(pkt) + cut if cut and cut < 0 else cut or rnd.randrange(4, len(pkt) - 2)
        await host.send(pkt[:n])
        await ClockCycles(dut.clk, 3 * host.div)
        await press_button(host)
        await after_reset()
        cases.append(f"cut after {n} of {len(pkt)} bytes")
    # 2. cut in the middle of a byte: start bit and four data bits, then the line idles
    await move_registers()
    pkt, entries = cut_packet()
    n = rnd.randrange(4, len(pkt) - 2)
    await host.send(pkt[:n])
    await send_bits(host, [0] + [(pkt[n] >> k) & 1 for k in range(4)])
    dut.button.value = 1
    await send_bits(host, [1] * 12)                      # the host gives up: the line idles
    dut.button.value = 0
    await ClockCycles(dut.clk, 2)
    host.model.reset()
    await after_reset()
    cases.append(f"cut inside byte {n} of {len(pkt)}")
    # 3. the rest of the packet keeps arriving after the reset: the link hunts through it
    #    (the model is fed the same bytes), a pause closes anything it opened
    await move_registers()
    pkt, entries = cut_packet()
    n = rnd.randrange(4, len(pkt) - 2)
    await host.send(pkt[:n])
    await press_button(host)
    await host.send(pkt[n:])
    await host.pause()
    await after_reset()
    cases.append(f"reset after {n} of {len(pkt)} bytes, the rest sent after it")
    # 4. the reset in the middle of the device's answers (a PONG, then a READ's RESP): the
    #    bytes received are a prefix of the model's, the line is idle after the reset
    for request in (encode_packet(PacketType.PING),
                    encode_packet(PacketType.CMD, command_words(Op.READ, mem=Mem.W_OUT, row=0, col=0))):
        await move_registers()
        start = len(host.rx)
        await host.send(request)
        answer = bytes(host.expected[start:])
        cut = rnd.randrange(2, len(answer) - 2)
        while len(host.rx) < start + cut:
            await ClockCycles(dut.clk, host.div)
        await ClockCycles(dut.clk, rnd.randrange(10 * host.div))   # anywhere in the next byte
        host._task.cancel()                               # a cut byte is no byte
        await press_button(host)
        got = bytes(host.rx[start:])
        assert got == answer[:len(got)] and len(got) < len(answer), (got.hex(), answer.hex())
        del host.expected[start + len(got):]
        await ClockCycles(dut.clk, 24 * host.div)
        assert int(dut.uart_tx.value) == 1, "uart_tx not idle after the reset"
        host._task = cocotb.start_soon(host._receive())
        entries = []
        await after_reset()
        cases.append(f"answer cut after {len(got)} of {len(answer)} bytes")
    # normal operation afterwards: training bit-exact, the complete state equal to the model's
    for spikes, label, train in random_samples(cfg, rng, 2, train_fraction=1.0):
        await exchange(host, sample_commands(spikes, label, train), True)
    values = await read_state(host, cfg)
    assert len(values) == len(state_reads(cfg))
    dut._log.info("resets: " + "; ".join(cases) + f"; {len(host.rx)} bytes, all equal to the model's")
