"""Block-RAM fit checked before synthesis (rtl/device_fit.py)."""

import pytest

from golden.config import preset
from rtl.build import find_board, main
from rtl.build_defaults import ROUTED_LANES
from rtl.device_fit import check_fit, choose_store, max_lanes, resident_rows, sdram_store_words


def test_resident_rows_are_the_training_split_and_the_larger_evaluation_split():
    assert resident_rows("digits") == (1257, 360)
    assert resident_rows("mnist") == (3500, 1000)


def test_digits_with_its_store_fits_the_85F_and_45F_not_the_25F():
    board = find_board("ulx3s")
    rows = resident_rows("digits")
    assert check_fit(board, "85F", preset("digits"), rows) == 17 + 57 + 2
    assert check_fit(board, "45F", preset("digits"), rows) == 76
    with pytest.raises(ValueError, match=r"does not fit the 25F: it needs about 76 block RAMs "
                                         r"\(core ~17 \+ data set store ~59 \(1257 \+ 360 rows\)\), "
                                         r"the device has 56"):
        check_fit(board, "25F", preset("digits"), rows)


def test_build_refuses_mnist_on_the_25F_before_synthesis(capsys, tmp_path):
    assert main(["--board", "ulx3s", "--device", "25F", "--config", "mnist",
                 "--out", str(tmp_path / "b"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "does not fit the 25F" in err and "the device has 56" in err
    assert not (tmp_path / "b" / "top.il").exists()


def test_lanes_the_multipliers_cannot_serve_are_refused():
    board = find_board("ulx3s")
    assert check_fit(board, "85F", preset("digits", lanes=32), None) == 46 + 1
    assert check_fit(board, "25F", preset("digits", lanes=8), None) == 17
    with pytest.raises(ValueError, match=r"does not fit the 25F: lanes = 16 needs 48 multipliers "
                                         r"\(3 per lane\), the device has 28"):
        check_fit(board, "25F", preset("digits", lanes=16), None)


def test_build_refuses_a_bad_lane_count_before_synthesis(capsys, tmp_path):
    assert main(["--board", "ulx3s", "--lanes", "12", "--out", str(tmp_path / "b"), "--quiet"]) == 1
    assert "lanes must be a power of two" in capsys.readouterr().err
    assert main(["--board", "ulx3s", "--device", "25F", "--lanes", "16",
                 "--out", str(tmp_path / "b"), "--quiet"]) == 1
    assert "lanes = 16 needs 48 multipliers" in capsys.readouterr().err
    assert not (tmp_path / "b" / "top.il").exists()


@pytest.mark.parametrize("device, lanes", [("12F", 8), ("25F", 8), ("45F", 16)])
def test_max_lanes_is_what_the_multipliers_allow(device, lanes):
    board = find_board("ulx3s")
    assert max_lanes(board, device, preset("digits")) == lanes
    check_fit(board, device, preset("digits", lanes=lanes))
    with pytest.raises(ValueError, match="multipliers"):
        check_fit(board, device, preset("digits", lanes=2 * lanes))


def test_max_lanes_stops_at_what_routes():
    """The 85F's multipliers and block RAMs take P = 32, which does not route there: max is 16."""
    board = find_board("ulx3s")
    check_fit(board, "85F", preset("digits", lanes=32))
    assert ROUTED_LANES["85F"] == 16
    assert max_lanes(board, "85F", preset("digits")) == 16
    # a device without a measured limit is capped by its multipliers alone
    assert "45F" not in ROUTED_LANES


def test_max_lanes_of_a_design_that_never_fits_names_the_block_rams():
    with pytest.raises(ValueError, match="does not fit the 25F: it needs about .* block RAMs"):
        max_lanes(find_board("ulx3s"), "25F", preset("mnist"))


def test_build_lanes_flag_takes_integers_or_max(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--lanes", "many"])
    assert exc.value.code == 2 and "lanes must be an integer or 'max'" in capsys.readouterr().err


def test_a_data_set_block_ram_cannot_hold_goes_to_the_sdram():
    board = find_board("ulx3s")
    assert choose_store(board, "85F", preset("digits"), resident_rows("digits")) == "bram"
    rows = resident_rows("mnist")
    assert choose_store(board, "85F", preset("mnist"), rows) == "sdram"
    # 4,500 rows of 393 words, 512 apart: 4.6 MB of the 32 MB part
    assert sdram_store_words(784, *rows) == 4500 * 512
    # the core, the two row buffers (64 x 256 bits: 8 blocks) and the order memory's two copies
    assert check_fit(board, "85F", preset("mnist"), rows, store="sdram") == 129 + 8 + 6
    # digits does not fit the 25F's block RAM with its store, but the SDRAM holds it
    assert choose_store(board, "25F", preset("digits"), resident_rows("digits")) == "sdram"
    with pytest.raises(ValueError, match=r"does not fit the 45F: it needs about 143 block RAMs "
                                         r"\(core ~129 \+ SDRAM row buffers ~8 "
                                         r"\+ order memory ~6\)"):
        choose_store(board, "45F", preset("mnist"), rows)


def test_a_data_set_larger_than_the_sdram_is_refused_naming_its_size():
    board = find_board("ulx3s")
    with pytest.raises(ValueError, match=r"does not fit the SDRAM: 40000 \+ 10000 rows of 512 "
                                         r"16-bit words \(784 pixels and a label each\) take "
                                         r"51,200,000 bytes \(48\.8 MB\), the SDRAM holds "
                                         r"33,554,432 bytes \(32 MB\)"):
        choose_store(board, "85F", preset("mnist"), (40000, 10000))
    # 32,768 rows of 512 words fill it exactly
    assert check_fit(board, "85F", preset("mnist"), (30000, 2768), store="sdram")


def test_a_board_without_sdram_gets_the_block_ram_refusal():
    class NoSdram:
        name, ebr, mult18 = "plain", {"85F": 208}, {"85F": 156}

    with pytest.raises(ValueError, match=r"does not fit the 85F: .* data set store"):
        choose_store(NoSdram(), "85F", preset("mnist"), resident_rows("mnist"))
    with pytest.raises(ValueError, match=r"\bstore\b.*has no SDRAM"):
        check_fit(NoSdram(), "85F", preset("mnist"), resident_rows("mnist"), store="sdram")
    with pytest.raises(ValueError, match=r"\bstore\b"):
        check_fit(NoSdram(), "85F", preset("mnist"), resident_rows("mnist"), store="flash")


def test_build_refuses_a_data_set_larger_than_the_sdram_before_synthesis(capsys, tmp_path,
                                                                        monkeypatch):
    import rtl.build
    monkeypatch.setattr(rtl.build, "resident_rows",
                        lambda data, n_inputs=None: (40000, 10000))
    assert main(["--board", "ulx3s", "--config", "mnist", "--resident", "mnist",
                 "--out", str(tmp_path / "b"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "does not fit the SDRAM" in err and "51,200,000 bytes" in err
    assert not (tmp_path / "b" / "top.il").exists()


def test_build_refuses_a_resident_data_set_of_another_width(capsys, tmp_path):
    with pytest.raises(ValueError, match=r"mnist has 784 pixels a row, the configuration 64 "
                                         r"inputs: build it with --config mnist"):
        resident_rows("mnist", 64)
    assert main(["--board", "ulx3s", "--resident", "mnist", "--out", str(tmp_path / "b"),
                 "--quiet"]) == 1
    assert "build it with --config mnist" in capsys.readouterr().err
    assert not (tmp_path / "b" / "top.il").exists()
