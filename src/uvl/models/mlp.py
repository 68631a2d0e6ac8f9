"""Fully connected networks on flattened images."""

from __future__ import annotations

from torch import nn


def mlp(widths: list[int]) -> nn.Sequential:
    """(B, ...) -> (B, widths[-1]): flatten, then linear layers with ReLU between them and none after the last."""
    layers = []
    for i, (width_in, width_out) in enumerate(zip(widths, widths[1:])):
        layers += [nn.Linear(width_in, width_out)] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    return nn.Sequential(nn.Flatten(), *layers)
