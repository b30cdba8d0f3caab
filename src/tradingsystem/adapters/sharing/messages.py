"""Signed signal messages: what a leader node tells its followers, and how a follower checks it.

A message says "strategy S of leader L now wants position P in instrument I", with the leader's
sequence number and the wall time it was sent. It travels as an envelope ``{"m": canonical JSON,
"s": Ed25519 signature of m}``; the follower holds only the leader's public key, so it can verify but
never forge. A follower refuses, and counts, anything unsigned, forged, stale, replayed or malformed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1


class SignalRefused(ValueError):
    """A message a follower must not act on; ``reason`` is one of REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


REASONS = ("malformed", "unsigned", "bad_signature", "wrong_leader", "stale", "replayed")


@dataclass(frozen=True)
class Signal:
    leader: str
    strategy: str
    instrument: str
    target: int
    """The leader strategy's position after the change (lots as units: contracts or shares)."""
    seq: int
    sent_ns: int
    """Wall-clock time the leader sent it (UTC ns), for staleness and latency."""
    market_ns: int
    """The leader engine's clock when the position changed."""
    price: int = 0
    """Raw price of the fill behind the change (0 when none)."""
    kind: str = "fill"
    v: int = VERSION

    def canonical(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def new_keypair() -> tuple[str, str]:
    """(private, public) as base64 of the raw 32-byte keys."""
    key = Ed25519PrivateKey.generate()
    priv = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(priv).decode(), base64.b64encode(pub).decode()


def _raw(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ValueError(f"the {what} key is not valid base64") from exc
    if len(raw) != 32:
        raise ValueError(f"the {what} key must be 32 bytes (tradingsystem share keygen)")
    return raw


class Signer:
    def __init__(self, private_key_b64: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(_raw(private_key_b64, "signing"))

    def envelope(self, signal: Signal) -> bytes:
        body = signal.canonical()
        sig = base64.b64encode(self._key.sign(body)).decode()
        return json.dumps({"m": body.decode(), "s": sig}, separators=(",", ":")).encode()


class Verifier:
    """Checks envelopes from one leader; keeps the last sequence per stream to refuse replays."""

    def __init__(self, public_key_b64: str, leader: str, max_age_ns: int) -> None:
        self._key = Ed25519PublicKey.from_public_bytes(_raw(public_key_b64, "leader's public"))
        self.leader, self.max_age_ns = leader, max_age_ns
        self._last_seq: dict[tuple[str, str], int] = {}

    def open(self, data: bytes, now_ns: int) -> Signal:
        try:
            env = json.loads(data)
            body, sig = env.get("m"), env.get("s")
        except (ValueError, AttributeError) as exc:
            raise SignalRefused("malformed", "not a JSON envelope") from exc
        if not isinstance(body, str):
            raise SignalRefused("malformed", "no message")
        if not sig:
            raise SignalRefused("unsigned", "no signature")
        try:
            self._key.verify(base64.b64decode(sig), body.encode())
        except (InvalidSignature, ValueError) as exc:
            raise SignalRefused("bad_signature", "signature does not match the leader's key") from exc
        try:
            fields = json.loads(body)
            signal = Signal(**fields)
        except (ValueError, TypeError) as exc:
            raise SignalRefused("malformed", f"bad fields ({exc})") from exc
        if signal.v != VERSION:
            raise SignalRefused("malformed", f"version {signal.v}")
        if signal.leader != self.leader:
            raise SignalRefused("wrong_leader", f"from {signal.leader!r}, following {self.leader!r}")
        age = now_ns - signal.sent_ns
        if age > self.max_age_ns:
            raise SignalRefused("stale", f"{age / 1e9:.1f} s old (limit {self.max_age_ns / 1e9:.1f} s)")
        key = (signal.strategy, signal.instrument)
        if signal.seq <= self._last_seq.get(key, -1):
            raise SignalRefused("replayed", f"seq {signal.seq} already seen")
        self._last_seq[key] = signal.seq
        return signal


__all__ = ["REASONS", "Signal", "SignalRefused", "Signer", "Verifier", "new_keypair"]
