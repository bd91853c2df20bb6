"""Property-based tests (hypothesis) of the host link's packet codec, its byte-level model,
the command model and the configuration validator: whatever bytes, words or field values
arrive, each is answered or refused as specified, and nothing is corrupted on the way."""

import dataclasses

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from boards.ulx3s.protocol import (MAX_WORDS, SYNC, Decoder, LinkError, LinkModel, PacketType,
                                   encode_packet, info_words, parse_error_word)
from golden.command_model import CoreModel
from golden.config import CoreConfig, preset
from golden.protocol import Mem, Op, Status, command_length, command_words, parse_response

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
words32 = st.integers(0, 2**32 - 1)


def small_cfg():
    return preset("digits", n_inputs=40, hidden=(6, 5), n_outputs=3, lanes=2, timesteps=2)


def model_state(core_model):
    """Everything a command can change: the fixed core's state and the writable parameters."""
    s = core_model.core.state()
    flat = {k: ([a.copy() for a in v] if isinstance(v, list) else np.copy(v)) for k, v in s.items()}
    flat["params"] = (core_model.cfg.hidden_lr_shift, core_model.cfg.readout_lr_shift)
    flat["sample"] = (core_model.active, core_model.train, core_model.label, core_model.steps)
    return flat


def same_state(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
            if len(x) != len(y) or not all(np.array_equal(p, q) for p, q in zip(x, y)):
                return False
        elif isinstance(x, np.ndarray):
            if not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


# --- the packet codec ------------------------------------------------------------------------

@SETTINGS
@given(ptype=st.integers(0, 255), words=st.lists(words32, max_size=MAX_WORDS),
       cuts=st.lists(st.integers(0, 5 + 4 * MAX_WORDS), max_size=6),
       noise=st.binary(max_size=40).map(lambda b: bytes(x for x in b if x != SYNC)))
def test_codec_round_trip_in_any_chunking(ptype, words, cuts, noise):
    """A packet after sync-free noise, cut into any chunks, decodes to itself, once."""
    data = noise + encode_packet(ptype, words)
    dec, got, last = Decoder(), [], 0
    for cut in sorted(c for c in cuts if c <= len(data)) + [len(data)]:
        got += dec.feed(data[last:cut])
        last = cut
    assert [(p.type, p.words) for p in got] == [(ptype, words)]
    assert dec.pending == 0 and dec.skipped == len(noise)


@SETTINGS
@given(words=st.lists(words32, min_size=1, max_size=8), data=st.data())
def test_codec_rejects_every_single_bit_error(words, data):
    """Any one flipped bit after the sync byte: nothing is delivered (CRC-16 catches every
    single-bit error; a flipped length leaves the decoder waiting for bytes)."""
    pkt = bytearray(encode_packet(PacketType.CMD, words))
    bit = data.draw(st.integers(8, 8 * len(pkt) - 1))
    pkt[bit // 8] ^= 1 << (bit % 8)
    assert Decoder().feed(bytes(pkt)) == []


@SETTINGS
@given(garbage=st.binary(max_size=300))
def test_decoder_never_raises_and_recovers(garbage):
    dec = Decoder()
    dec.feed(garbage)
    # however the garbage ended, padding one maximal packet's worth of zeros closes it
    dec.feed(bytes(5 + 4 * 255))
    good = encode_packet(PacketType.PING)
    assert [(p.type, p.words) for p in dec.feed(good)] == [(PacketType.PING, [])]


# --- the link model (framing in front of the core) -------------------------------------------

@SETTINGS
@given(garbage=st.binary(max_size=400))
def test_link_model_garbage_changes_no_state_and_link_recovers(garbage):
    """Arbitrary bytes are answered only with well-formed packets; the core state changes
    only through CMD packets with a good CRC; after a timeout the link answers a PING."""
    cfg = small_cfg()
    link = LinkModel(cfg)
    before = model_state(link.core)
    out = link.feed(garbage) + link.timeout()
    dec = Decoder()
    packets = dec.feed(out)
    assert dec.pending == 0 and dec.skipped == 0            # the device emits only packets
    commands = [p for p in packets if p.type == PacketType.RESP]
    if not commands:
        assert same_state(before, model_state(link.core))
    for p in packets:
        assert p.type in (PacketType.RESP, PacketType.PONG, PacketType.ERROR)
        if p.type == PacketType.ERROR:
            assert len(p.words) == 1 and parse_error_word(p.words[0])[0] in set(LinkError)
    pong = Decoder().feed(link.feed(encode_packet(PacketType.PING)))
    assert [(p.type, p.words) for p in pong] == [(PacketType.PONG, info_words(cfg))]


@SETTINGS
@given(words=st.lists(words32, min_size=1, max_size=12), bit=st.integers(0, 8 * 60 - 1))
# LEN 8 -> 0 makes the link hunt through the payload; its SYNC byte (0xA5) opens a second
# packet, which fails its CRC too: two ERROR answers, still no effect on the core
@example(words=[0, 0, 0, 0, 0, 0, 0, 0xA5], bit=19)
def test_link_model_corrupted_cmd_packet_is_rejected_without_effect(words, bit):
    """One flipped bit in a CMD packet is answered only with ERROR packets, at least one and
    at most one per SYNC byte in the packet (each SYNC may start a packet after the link
    resynchronises), and leaves the core's state untouched."""
    cfg = small_cfg()
    link = LinkModel(cfg)
    pkt = bytearray(encode_packet(PacketType.CMD, words))
    assume(8 <= bit < 8 * len(pkt))
    pkt[bit // 8] ^= 1 << (bit % 8)
    before = model_state(link.core)
    answers = Decoder().feed(link.feed(bytes(pkt)) + link.timeout())
    assert all(p.type == PacketType.ERROR for p in answers)
    assert 1 <= len(answers) <= pkt.count(SYNC)
    assert same_state(before, model_state(link.core))


# --- the command model ------------------------------------------------------------------------

def command_strategy(cfg):
    n_spike_words = -(-cfg.n_inputs // 32)
    rows_cols = st.tuples(st.integers(0, 12), st.integers(0, 4))
    return st.one_of(
        st.builds(lambda h: [h], words32),                                   # any header at all
        st.builds(lambda t, lab: command_words(Op.START, train=t, label=lab),
                  st.booleans(), st.integers(0, cfg.n_outputs + 1)),
        st.builds(lambda ws: [Op.STEP << 28, *ws], st.lists(words32, min_size=n_spike_words,
                                                            max_size=n_spike_words)),
        st.just(command_words(Op.END)),
        st.builds(lambda m, rc, v: command_words(Op.WRITE, mem=m, row=rc[0], col=rc[1], value=v),
                  st.sampled_from(list(Mem)), rows_cols, st.integers(-2**31, 2**31 - 1)),
        st.builds(lambda m, rc: command_words(Op.READ, mem=m, row=rc[0], col=rc[1]),
                  st.integers(0, 15), rows_cols),
        st.builds(lambda r, v: command_words(Op.WRITE, mem=Mem.PARAM, row=r, col=0, value=v),
                  st.integers(0, 2), st.integers(-3, 40)),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_command_model_answers_each_command_once_and_errors_change_nothing(data):
    """Any command sequence: each complete command gets exactly one response header whose
    count says how many data words follow; a command answered with an error changes no
    state (weights, M, LFSRs, baseline, membranes, traces, parameters, sample state)."""
    cfg = small_cfg()
    model = CoreModel(cfg)
    for cmd in data.draw(st.lists(command_strategy(cfg), min_size=1, max_size=25)):
        length = command_length(cmd[0], cfg.n_inputs)
        cmd = (cmd + [0] * length)[:length]               # a header alone gets its words
        before = model_state(model)
        rsp = []
        for w in cmd:
            rsp += model.feed(w)
        op, status, count = parse_response(rsp[0])
        assert op == cmd[0] >> 28 and len(rsp) == 1 + count
        if status != Status.OK:
            assert count == 0
            assert same_state(before, model_state(model)), (cmd, status)


# --- the configuration validator ---------------------------------------------------------------

INT_FIELDS = [f.name for f in dataclasses.fields(CoreConfig)
              if f.type in (int, "int") and f.name != "seed"]


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(INT_FIELDS), value=st.one_of(st.integers(-5, 70), st.integers(-2**40, 2**40)))
def test_config_validator_accepts_or_names_the_field(field, value):
    """Any value of any integer field: the configuration validates, or ``ValueError`` names
    the field (or the field it conflicts with); the RTL's own check likewise."""
    from rtl.core import check_rtl_config
    try:
        cfg = dataclasses.replace(preset("digits"), **{field: value})   # validates
    except ValueError as exc:
        names = set(CoreConfig.field_names()) | {"hidden[0]", "sizes"}
        assert any(n in str(exc) for n in names), str(exc)
        return
    try:
        check_rtl_config(cfg)
    except ValueError as exc:
        assert any(n in str(exc) for n in CoreConfig.field_names()), str(exc)
