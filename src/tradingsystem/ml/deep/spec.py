"""What a deep model is: architecture, window, training schedule and device (no torch import here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEEP_KINDS", "DeepSpec"]

DEEP_KINDS = ("lstm", "transformer", "tcn")


class DeepSpec(BaseModel):
    """A sequence model over the last ``window`` feature rows (see ``docs/ml.md``, Deep learning).

    ``hidden`` is the LSTM state size, the Transformer's model width and the TCN's channel count;
    ``layers`` defaults to 1 for the LSTM and 2 for the Transformer (the TCN stacks as many dilated blocks
    as its receptive field needs to cover the window). On CUDA the batch is ``cuda_batch_size`` and the
    forward pass runs in mixed precision; inference is always on CPU in float32.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["lstm", "transformer", "tcn"]
    window: int = Field(32, ge=2, le=512)
    hidden: int = Field(16, ge=2, le=1024)
    layers: int | None = Field(None, ge=1, le=8)
    patch: int = Field(4, ge=1)
    heads: int = Field(4, ge=1)
    kernel: int = Field(3, ge=2)
    dropout: float = Field(0.1, ge=0, lt=1)
    epochs: int = Field(10, ge=1, le=1000)
    patience: int = Field(3, ge=1)
    batch_size: int = Field(256, ge=1)
    cuda_batch_size: int = Field(2048, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    val_frac: float = Field(0.2, gt=0, lt=0.9)
    clip: float = Field(8.0, gt=0)  # scaled inputs are clipped to [-clip, clip]
    seed: int = 7
    device: Literal["auto", "cpu", "cuda"] = "auto"

    @property
    def n_layers(self) -> int:
        return self.layers if self.layers is not None else (2 if self.kind == "transformer" else 1)
