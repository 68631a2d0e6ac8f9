"""Contrastive losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(query: torch.Tensor, key: torch.Tensor, negatives: torch.Tensor,
             temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE over one positive and a set of negatives, as a (1+K)-way classification (He et al. 2020, eq. 1).

        L = -(1/N) Σ_i log[ exp(q_i·k_i/τ) / (exp(q_i·k_i/τ) + Σ_j exp(q_i·n_j/τ)) ]

    query q, key k: (N, D), L2-normalised; negatives n: (K, D), L2-normalised; temperature τ > 0.
    Returns the loss and the logits (N, 1+K), whose column 0 is the positive: the "contrast accuracy" is
    the fraction of rows whose argmax is 0.
    """
    positive = (query * key).sum(dim=1, keepdim=True)  # (N, 1)
    negative = query @ negatives.T  # (N, K)
    logits = torch.cat([positive, negative], dim=1) / temperature  # (N, 1+K)
    targets = torch.zeros(len(query), dtype=torch.long, device=query.device)
    return F.cross_entropy(logits, targets), logits
