"""Parts the self-supervised encoders share: the projection head and the moving average of a network."""

from __future__ import annotations

import torch
from torch import nn


def projection_head(in_features: int, hidden: int, out_features: int, batch_norm: bool = False) -> nn.Sequential:
    """g of MoCo v2 and SimCLR: ReLU, Linear, ReLU, Linear on the encoder's output (B, in_features), which
    ends in a Linear layer, hence the leading ReLU; BYOL's and Barlow Twins' put BatchNorm before the
    second ReLU (`batch_norm`). Used for the loss only; the features are the encoder's."""
    return nn.Sequential(nn.ReLU(), nn.Linear(in_features, hidden), *([nn.BatchNorm1d(hidden)] if batch_norm else []),
                         nn.ReLU(), nn.Linear(hidden, out_features))


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """θ_target ← m·θ_target + (1 − m)·θ_online, parameter by parameter (MoCo's key encoder, BYOL's target)."""
    for target_param, online_param in zip(target.parameters(), online.parameters()):
        target_param.mul_(momentum).add_(online_param.detach(), alpha=1 - momentum)
