"""Export audit: the binding binds the vendor's export names; optional exports may be missing, required ones
give one clear error naming the export and the DLL version."""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

import pytest

from tests.profitdll.helpers import Double, Sink, build_double, config, settle, weekdays
from tradingsystem.adapters.profitdll import MissingExport, open_profitdll
from tradingsystem.adapters.profitdll.binding import _SIGNATURES, FEATURES, ProfitDLL, dll_version
from tradingsystem.domain.errors import HaltRequired

pytestmark = pytest.mark.integration

# Export names from the vendor's manual (4.0.0.42, quick API index) and Delphi units that this binding uses.
VENDOR = {
    "DLLInitializeLogin", "DLLInitializeMarketLogin", "DLLFinalize", "GetServerClock", "GetHealthStatus",
    "SubscribeTicker", "UnsubscribeTicker", "SubscribeOfferBook", "UnsubscribeOfferBook", "GetHistoryTrades",
    "SetOfferBookCallbackV2", "SetStateCallback", "SetHealthCallback", "SetSerieProgressCallback",
    "SetOrderCallback", "SetTradeCallbackV2", "SetHistoryTradeCallbackV2", "SetPriceDepthCallback",
    "SetTradingMessageResultCallback", "SendOrder", "SendChangeOrderV2", "SendCancelOrderV2", "SendCancelOrdersV2",
    "SendCancelAllOrdersV2", "SendZeroPositionV2", "GetAccountCount", "GetAccounts", "GetPositionV2",
    "GetOrderDetails", "EnumerateAllOrders", "EnumerateAllPositionAssets", "TranslateTrade", "SubscribePriceDepth",
    "UnsubscribePriceDepth", "GetPriceDepthSideCount", "GetPriceGroup", "FreePointer",
}


def test_binding_and_double_use_only_vendor_export_names(dll_path: str) -> None:
    assert set(_SIGNATURES) <= VENDOR
    lib = ctypes.CDLL(dll_path)
    assert all(hasattr(lib, name) for name in VENDOR)
    assert not hasattr(lib, "SetProgressCallback")  # the old misspelling is gone from the double too
    assert dll_version(dll_path) == "4.0.0.42"


def _variant(tmp_path: Path, hide: list[str], version: tuple[int, int, int, int]) -> str:
    return str(build_double(tmp_path / "ProfitDLL_old.so", hide=hide, version=version))


def test_missing_optional_exports_leave_a_working_session(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hidden = [*FEATURES["health"], "SetOfferBookCallbackV2", "SetTradingMessageResultCallback"]
    path = _variant(tmp_path, hidden, (4, 0, 0, 38))
    double = Double(path)
    double.define_all()
    caplog.set_level(logging.WARNING)
    feed, execution = open_profitdll(config(path, book_depth=True, book_source="offer_book"), weekdays)
    sink = Sink()
    try:
        assert feed.session.dll.disabled == {"health", "offer_book", "trading_message"}
        assert "4.0.0.38" in caplog.text and "SetHealthCallback" in caplog.text
        assert feed.book_source is None  # the offer book is off; trades still flow
        feed.connect(sink)
        execution.connect(sink)
        feed.subscribe(["WINZ26"])
        double.TestStream(50)
        settle(double, feed)
        assert [t.trade_id for t in sink.trades] == list(range(1, 51))
    finally:
        feed.session.dll.finalize()


def test_missing_required_export_names_the_export_and_the_dll_version(tmp_path: Path) -> None:
    path = _variant(tmp_path, ["SubscribeTicker", "SendChangeOrderV2"], (4, 0, 0, 19))
    with pytest.raises(MissingExport) as info:
        ProfitDLL(path)
    message = str(info.value)
    assert "SubscribeTicker" in message and "SendChangeOrderV2" in message and "4.0.0.19" in message
    assert info.value.exports == ("SubscribeTicker", "SendChangeOrderV2")
    assert isinstance(info.value, HaltRequired)


def test_double_refuses_get_position_v2_without_a_position_type(double: Double, dll_path: str) -> None:
    from tradingsystem.adapters.profitdll import ProfitDLLInvalid
    from tradingsystem.adapters.profitdll import structs as s

    double.TestSeedPosition("WINZ26", "F", 3, 120000.0)
    _, execution = open_profitdll(config(dll_path), weekdays)
    try:
        execution.connect(Sink())
        acct = execution._acct()
        pos = s.TConnectorTradingAccountPosition(Version=2, AccountID=acct,
                                                 AssetID=s.TConnectorAssetIdentifier(0, "WINZ26", "F", 0))
        with pytest.raises(ProfitDLLInvalid, match="INVALID_ARGS"):
            execution.session.dll.get_position(pos)
        pos.PositionType = 2
        execution.session.dll.get_position(pos)
        assert (pos.OpenQuantity, pos.OpenSide) == (3, 1)
        assert [(p.symbol, p.quantity) for p in execution.reconcile().positions] == [("WINZ26", 3)]
    finally:
        execution.session.dll.finalize()


def test_a_dll_that_cannot_be_loaded_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HaltRequired, match="cannot load ProfitDLL from"):
        ProfitDLL(str(tmp_path / "ProfitDLL64.dll"))
