"""Resident training from the host (boards/ulx3s/resident_host.py) against the simulated board
(the link model in front of golden/resident_model.py)."""

import pytest

from boards.ulx3s.driver import OpzoHost, SimTransport
from boards.ulx3s.host import main
from boards.ulx3s.resident_host import ResidentError, store_info, upload
from golden.config import preset
from golden.data import load_dataset
from tests.test_host_link import assert_same_epochs

ARGS = ["--data", "digits", "--epochs", "2", "--limit-train", "30", "--limit-val", "20",
        "--limit-test", "15", "--no-progress", "--lr-decay-epochs", "1"]


def test_host_train_resident_sim_matches_tools_train(capsys):
    """Per-epoch validation and online training accuracies and the test accuracy equal
    ``tools.train --set encoding=lfsr_rate``: same on-chip order, draws and halvings."""
    from tools.train import train

    ref = train("digits", "opzo", "fixed", epochs=2, limit_train=30, limit_val=20, limit_test=15,
                test=True, progress=False, lr_decay_epochs=(1,), overrides={"encoding": "lfsr_rate"})
    assert main(["train", "--sim", "--resident", "--test", *ARGS]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("uploaded 30 training and 20 validation rows") for ln in out)
    assert_same_epochs(out, ref)


def test_board_without_store_is_refused_with_a_reason():
    host = OpzoHost(SimTransport(preset("digits")))
    with pytest.raises(ResidentError, match="no data set store"):
        store_info(host)


def test_data_set_larger_than_the_store_is_refused_before_writing(capsys):
    cfg = preset("digits", encoding="lfsr_rate")
    transport = SimTransport(cfg, (10, 5))
    host = OpzoHost(transport)
    assert store_info(host) == (10, 5, 64)
    from boards.ulx3s.resident_host import train_resident

    class Args:
        limit_train, limit_val, limit_test, test, epochs, lr_decay_epochs = 11, 5, 5, False, 1, ""
    with pytest.raises(ResidentError, match="11 training rows .store: 10."):
        train_resident(host, cfg, load_dataset("digits"), Args)
    assert transport.model.core.checksum == (0, 0) and not transport.model.core.pixels.any()


def test_upload_checksum_catches_a_board_that_stores_wrongly():
    cfg = preset("digits", encoding="lfsr_rate")
    transport = SimTransport(cfg, (10, 5))
    host = OpzoHost(transport)
    ds = load_dataset("digits")
    assert upload(host, ds.x_train[:10], ds.y_train[:10], 0) == 50
    board = transport.model.core
    real = board._store
    board._store = lambda row, col, words: real(row ^ 1, col, words)   # rows swapped in pairs
    with pytest.raises(ResidentError, match="checksum"):
        upload(host, ds.x_train[:10], ds.y_train[:10], 0)



def test_upload_resumes_after_a_corrupted_packet():
    """One packet of the upload is corrupted on the way: the link rejects it (BAD_CRC,
    nothing stored from it), the host uploads again and the checksum then matches."""
    cfg = preset("digits", encoding="lfsr_rate")

    class Noisy(SimTransport):
        writes = 0

        def write(self, data):
            Noisy.writes += 1
            if Noisy.writes == 3:    # 1: CHECKSUM, 2: the first 256-word window of STOREs, 3: the rest
                data = bytearray(data)
                data[20] ^= 0x04
            super().write(bytes(data))

    transport = Noisy(cfg, (10, 5))
    host = OpzoHost(transport)
    ds = load_dataset("digits")
    assert upload(host, ds.x_train[:10], ds.y_train[:10], 0) == 50
    assert Noisy.writes > 4
    from golden.input_encoding import quantise_pixels
    assert (transport.model.core.pixels[:10] == quantise_pixels(ds.x_train[:10])).all()
