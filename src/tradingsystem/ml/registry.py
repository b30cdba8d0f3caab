"""A small file registry of trained models: ``ROOT/NAME/VERSION/{model.pkl, card.json}``.

Chosen over MLflow: no server, no tracking-store migrations and no 100+ MB dependency for what is a
handful of files; the card is plain JSON a person can read and diff; and loading checks the model file's
SHA-256 against the card. Versions are integers from 1. ``model.pkl`` is a pickle: load models only from
a registry directory you trust (the same rule as any pickle).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from tradingsystem.ml.deep.ensemble import MixedSignalModel
from tradingsystem.ml.deep.model import DeepSignalModel
from tradingsystem.ml.models import SignalModel

Stored = SignalModel | DeepSignalModel | MixedSignalModel

__all__ = ["ModelRegistry", "RegistryError", "library_versions", "parse_ref"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "optuna", "pydantic", "ta-lib", "torch", "onnxruntime",
             "tradingsystem")


class RegistryError(LookupError):
    """A model reference cannot be resolved or a stored model fails its check."""


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a model depends on (``missing`` when absent)."""
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "missing"
    return out


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name"``, ``"name:latest"`` or ``"name:3"`` to ``(name, version or None for latest)``."""
    name, _, ver = ref.partition(":")
    if not _NAME.fullmatch(name):
        raise RegistryError(f"bad model name {name!r}: letters, digits, '_', '.', '-'")
    if ver in ("", "latest"):
        return name, None
    if not ver.isdigit() or int(ver) < 1:
        raise RegistryError(f"bad version {ver!r} in {ref!r}: a positive integer or 'latest'")
    return name, int(ver)


class ModelRegistry:
    """Models stored by name and version under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def versions(self, name: str) -> list[int]:
        d = self.root / name
        return sorted(int(p.name) for p in d.iterdir() if p.name.isdigit()) if d.is_dir() else []

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def save(self, name: str, model: Stored, card: dict[str, Any]) -> dict[str, Any]:
        """Store ``model`` as the next version of ``name``; returns the card written (with ``version``)."""
        parse_ref(name)
        version = (self.versions(name) or [0])[-1] + 1
        d = self.root / name / str(version)
        d.mkdir(parents=True, exist_ok=False)
        blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        (d / "model.pkl").write_bytes(blob)
        full = {**card, "name": name, "version": version, "model_id": f"{name}:{version}",
                "model_sha256": hashlib.sha256(blob).hexdigest()}  # fmt: skip
        (d / "card.json").write_text(json.dumps(full, indent=2, sort_keys=True, default=str) + "\n")
        return full

    def path(self, ref: str) -> Path:
        name, version = parse_ref(ref)
        found = self.versions(name)
        if not found:
            raise RegistryError(f"no model named {name!r} in {self.root}")
        v = found[-1] if version is None else version
        if v not in found:
            raise RegistryError(f"model {name!r} has no version {v} (versions: {found})")
        return self.root / name / str(v)

    def card(self, ref: str) -> dict[str, Any]:
        card: dict[str, Any] = json.loads((self.path(ref) / "card.json").read_text())
        return card

    def load(self, ref: str) -> tuple[Stored, dict[str, Any]]:
        """The model and its card; raises :class:`RegistryError` if the file does not match its hash."""
        d = self.path(ref)
        card = self.card(ref)
        blob = (d / "model.pkl").read_bytes()
        if hashlib.sha256(blob).hexdigest() != card.get("model_sha256"):
            raise RegistryError(f"{d / 'model.pkl'} does not match the SHA-256 in its card")
        model = pickle.loads(blob)
        if not isinstance(model, Stored):
            raise RegistryError(f"{d / 'model.pkl'} does not hold a SignalModel, DeepSignalModel or MixedSignalModel")
        return model, card
