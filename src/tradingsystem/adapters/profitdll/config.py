"""Typed, frozen configuration of the ProfitDLL adapter. Secrets are ``SecretStr``: never printed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ProfitDLLConfig"]


class ProfitDLLConfig(BaseModel):
    """Where the DLL is, who logs in, the book, and the hand-off limits (the ``profitdll:`` config section).

    ``dll_path``, ``activation_key``, ``user`` and ``password`` are needed to connect; the runtime checks
    them (``runtime/profitdll_setup.py``), so the section may leave them to the environment.
    ``routing_password`` is the trading (signature) password put in order records; it defaults to
    ``password``. ``broker_id``/``account_id`` pick the routing account (default: the first one).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dll_path: str = ""
    activation_key: SecretStr = SecretStr("")
    user: str = ""
    password: SecretStr = SecretStr("")
    routing_password: SecretStr | None = None
    market_only: bool = False
    broker_id: int | None = None
    account_id: str | None = None
    sub_account_id: str = ""
    login_timeout_s: float = Field(default=60.0, gt=0)
    queue_capacity: int = Field(default=1 << 18, ge=16)
    # live trades: "auto" through the C hand-off (built with gcc on first use; ctypes if it cannot be),
    # "ctypes" always through the Python callback
    handoff: Literal["auto", "ctypes"] = "auto"
    book_depth: bool = False  # subscribe a book for every symbol; ``book_source`` says which one
    book_source: Literal["price_depth", "offer_book"] = "price_depth"
    # offer book edits (atEdit): the quantity is added to the stored one (the vendor's example) or replaces it
    offer_edit: Literal["delta", "absolute"] = "delta"
    position_type: int = Field(default=1, ge=1, le=2)  # GetPositionV2, zero-position: 1 day trade, 2 consolidated
    history_lookback_s: int = Field(default=3600, ge=1)
    # the interpreter's GIL switch interval for live runs: the DLL thread waits at most this long for the GIL
    # while the engine thread is busy (CPython's default is 5 ms); set by the runtime, None leaves it alone
    switch_interval_s: float | None = Field(default=0.0005, gt=0)

    def routing_secret(self) -> str:
        return (self.routing_password or self.password).get_secret_value()
