"""The three sequence networks. Each maps a window ``(batch, window, features)`` ending at the decision
bar to one logit of "up"; the last step of the window is the decision bar's own feature row.

- :class:`CausalLSTM`: a one-directional LSTM read at the last step (step ``t`` only sees steps ``<= t``).
- :class:`PatchTransformer`: the window cut into patches of ``patch`` steps, each embedded as a token, a
  Transformer encoder with a causal mask (a token attends to itself and earlier patches), read at the last
  token.
- :class:`TCN`: dilated causal 1-D convolutions (left padding only) with residual blocks, read at the last
  step; the receptive field ``1 + 2 * (kernel - 1) * (2 ** levels - 1)`` covers the window by default.

:func:`last_step_form` is the same network computing only what its last step needs, for batch scoring.

This module imports torch; import it only where a network is built (``tradingsystem.ml.deep`` keeps
torch out of the command line's start-up).
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn

from tradingsystem.ml.deep.spec import DeepSpec

__all__ = ["TCN", "CausalLSTM", "PatchTransformer", "build_net", "last_step_form"]


class CausalLSTM(nn.Module):
    def __init__(self, d_in: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(d_in, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)  # fmt: skip
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        y: torch.Tensor = self.head(out[:, -1, :]).squeeze(-1)
        return y


class PatchTransformer(nn.Module):
    def __init__(self, d_in: int, window: int, patch: int, d_model: int, heads: int, layers: int,
                 dropout: float) -> None:  # fmt: skip
        super().__init__()
        if window % patch:
            raise ValueError(f"window {window} is not a multiple of patch {patch}")
        self.patch = patch
        self.tokens = window // patch
        self.embed = nn.Linear(patch * d_in, d_model)
        self.pos = nn.Parameter(torch.zeros(1, self.tokens, d_model))
        layer = nn.TransformerEncoderLayer(d_model, heads, 2 * d_model, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 1)
        mask = torch.triu(torch.full((self.tokens, self.tokens), float("-inf")), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, d = x.shape
        z = self.embed(x.reshape(b, self.tokens, self.patch * d)) + self.pos
        z = self.encoder(z, mask=self.mask)
        y: torch.Tensor = self.head(self.norm(z[:, -1, :])).squeeze(-1)
        return y


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, dilation=dilation)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0)))))
        h = self.drop(torch.relu(self.conv2(nn.functional.pad(h, (self.pad, 0)))))
        return torch.relu(h + self.skip(x))


class TCN(nn.Module):
    def __init__(self, d_in: int, channels: int, kernel: int, levels: int, dropout: float) -> None:
        super().__init__()
        blocks = [_Block(d_in if i == 0 else channels, channels, kernel, 2**i, dropout) for i in range(levels)]
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(x.transpose(1, 2))
        y: torch.Tensor = self.head(h[:, :, -1]).squeeze(-1)
        return y


def build_net(spec: DeepSpec, d_in: int) -> nn.Module:
    """The network ``spec.kind`` for ``d_in`` input columns (weights drawn from torch's current seed)."""
    if spec.kind == "lstm":
        return CausalLSTM(d_in, spec.hidden, spec.n_layers, spec.dropout)
    if spec.kind == "transformer":
        return PatchTransformer(d_in, spec.window, spec.patch, spec.hidden, spec.heads, spec.n_layers, spec.dropout)
    levels = max(1, math.ceil(math.log2((spec.window - 1) / (2 * (spec.kernel - 1)) + 1)))
    return TCN(d_in, spec.hidden, spec.kernel, levels, spec.dropout)


class _TransformerLast(nn.Module):
    """A :class:`PatchTransformer` whose last encoder layer runs attention and feed-forward for the last
    token only (the one read), attention as plain matrix products; the same weights, the same numbers to
    float32 rounding."""

    def __init__(self, net: PatchTransformer) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        b, _, d = x.shape
        z = n.embed(x.reshape(b, n.tokens, n.patch * d)) + n.pos
        layers = cast(list[nn.TransformerEncoderLayer], list(n.encoder.layers))
        for i, layer in enumerate(layers):
            att = layer.self_attn
            heads, width = att.num_heads, z.shape[-1]
            q, k, v = nn.functional.linear(layer.norm1(z), att.in_proj_weight, att.in_proj_bias).chunk(3, -1)
            mask: torch.Tensor | None = cast(torch.Tensor, n.mask)
            if i == len(layers) - 1:  # only the last token goes on; it attends to every patch
                q, z, mask = q[:, -1:], z[:, -1:], None
            q, k, v = (t.reshape(b, -1, heads, width // heads).transpose(1, 2) for t in (q, k, v))
            scores = (q * (width // heads) ** -0.5) @ k.transpose(-1, -2)  # a plain matmul: for a few tokens
            if mask is not None:  # of a few dimensions, much faster than the fused attention kernels
                scores = scores + mask
            e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))  # softmax: torch's kernel is slow on
            o = (e / e.sum(dim=-1, keepdim=True)) @ v  # a last dimension of a few tokens
            z = z + att.out_proj(o.transpose(1, 2).reshape(b, -1, width))
            z = z + layer.linear2(torch.relu(layer.linear1(layer.norm2(z))))
        y: torch.Tensor = n.head(n.norm(z[:, -1, :])).squeeze(-1)
        return y


class _TCNLast(nn.Module):
    """A :class:`TCN` computing only the positions its last output reads: block ``i`` (dilation ``2**i``)
    needs its input at every ``2**i``-th step back from the last, where its dilated convolutions become
    plain ones, so each block runs on half the steps of the one before (the last block's second
    convolution on the last step alone); the same numbers to rounding."""

    def __init__(self, net: TCN) -> None:
        super().__init__()
        for i, blk in enumerate(cast(list[_Block], list(net.blocks))):
            if blk.conv1.dilation[0] != 2**i or blk.conv2.dilation[0] != 2**i:
                raise ValueError("the last-step TCN needs dilations 1, 2, 4, ...")
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)
        blocks = cast(list[_Block], list(self.net.blocks))
        for i, blk in enumerate(blocks):
            k, n = int(blk.conv1.kernel_size[0]), int(h.shape[-1])
            # the steps this block's output is read at: every other one back from the last (the next,
            # twice as dilated, block), or the last alone; a stride-2 convolution computes just those
            first = n - 1 if i == len(blocks) - 1 else (n - 1) % 2
            a = torch.relu(nn.functional.conv1d(nn.functional.pad(h, (k - 1, 0)), blk.conv1.weight, blk.conv1.bias))
            a = nn.functional.pad(a, (k - 1, 0))[:, :, first:]
            c = torch.relu(nn.functional.conv1d(a, blk.conv2.weight, blk.conv2.bias, stride=2))
            h = torch.relu(c + blk.skip(h[:, :, first::2]))
        y: torch.Tensor = self.net.head(h[:, :, -1]).squeeze(-1)
        return y


def last_step_form(net: nn.Module) -> nn.Module:
    """``net`` computing only what its output (read at the last step) depends on, for batch scoring: the
    Transformer's last layer for the last token, the TCN's blocks on the steps they read; the LSTM as is."""
    if isinstance(net, PatchTransformer):
        return _TransformerLast(net).eval()
    if isinstance(net, TCN):
        return _TCNLast(net).eval()
    return net
