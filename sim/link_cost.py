"""What the UART costs: bytes per training sample fed by the host, and per resident epoch.

Counted from the real packet encoding (:mod:`boards.ulx3s.protocol`): the host's CMD packets
and the RESP packets :class:`~boards.ulx3s.protocol.LinkModel` answers them with (sync, type,
length and CRC included).  Used by :mod:`sim.bench`.
"""

__all__ = ["BITS_PER_BYTE", "link_bytes", "resident_link_bytes"]

BITS_PER_BYTE = 10          # UART 8N1: start bit, 8 data bits, stop bit


def resident_link_bytes(cfg, n_train, n_eval):
    """UART bytes (both directions) of one resident epoch's commands, and of the upload of
    ``n_train + n_eval`` rows (checksum commands included)."""
    import numpy as np

    from boards.ulx3s.protocol import LinkModel, encode_packet, pack_commands, PacketType
    from golden.protocol import Mem, Op, command_words
    from golden.resident_model import ResidentModel
    from golden.resident_protocol import ResOp, header, store_commands

    def cost(cmds):
        link = LinkModel(cfg, ResidentModel(cfg, n_train, max(n_eval, 1)))
        sent = answered = 0
        for pkt, _ in pack_commands(cmds):
            sent += len(pkt)
            answered += len(link.feed(pkt))
        return sent, answered

    epoch = [command_words(Op.WRITE, mem=Mem.PARAM, row=r, col=0, value=v)
             for r, v in ((0, cfg.hidden_lr_shift), (1, cfg.readout_lr_shift))]
    epoch += [[header(ResOp.CLEAR)], [header(ResOp.SHUFFLE, n_train)]]
    # RUN answers after the run: count the bytes only (the model would run the epoch)
    run_bytes = 2 * (len(encode_packet(PacketType.CMD, [0])) + len(encode_packet(PacketType.RESP, [0])))
    sent, answered = cost(epoch + [[header(ResOp.COUNTERS)]])
    rows = np.zeros((n_train + n_eval, cfg.n_inputs), dtype=np.uint8)
    up = [[header(ResOp.CHECKSUM, flag=True)], *store_commands(rows, [0] * len(rows)),
          [header(ResOp.CHECKSUM)]]
    up_sent, up_answered = cost(up)
    return {"epoch_bytes": sent + answered + run_bytes, "upload_bytes": up_sent + up_answered}


def link_bytes(cfg, spikes, label):
    """UART bytes of one training sample, each way.

    Parameters
    ----------
    cfg : golden.config.CoreConfig
    spikes : array of shape (timesteps, n_inputs)
        The encoded sample (its content does not change the count; STEP words are fixed-size).
    label : int

    Returns
    -------
    dict
        ``{"host_to_device": int, "device_to_host": int}``: the host's CMD packet(s) built by
        :meth:`OpzoHost.sample_commands` and :func:`pack_commands` (as the host driver sends
        them), and the RESP packets :class:`LinkModel` answers them with.
    """
    from boards.ulx3s.driver import OpzoHost
    from boards.ulx3s.protocol import LinkModel, pack_commands

    sent = b"".join(pkt for pkt, _ in pack_commands(OpzoHost.sample_commands(spikes, label, True)))
    return {"host_to_device": len(sent), "device_to_host": len(LinkModel(cfg).feed(sent))}
