"""Contrastive losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(query: torch.Tensor, key: torch.Tensor, negatives: torch.Tensor, temperature: float,
             margin: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE over one positive and a set of negatives, as a (1+K)-way classification (He et al. 2020, eq. 1),
    with EqCo's margin m on the positive (Zhu et al. 2021; m = 0: InfoNCE itself).

        L = -(1/N) Σ_i log[ exp((q_i·k_i − m)/τ) / (exp((q_i·k_i − m)/τ) + Σ_j exp(q_i·n_j/τ)) ]

    query q, key k: (N, D), L2-normalised; negatives n: (K, D), L2-normalised; temperature τ > 0.
    Returns the loss and the logits (N, 1+K), whose column 0 is the positive: the "contrast accuracy" is
    the fraction of rows whose argmax is 0.
    """
    positive = (query * key).sum(dim=1, keepdim=True) - margin  # (N, 1)
    negative = query @ negatives.T  # (N, K)
    logits = torch.cat([positive, negative], dim=1) / temperature  # (N, 1+K)
    targets = torch.zeros(len(query), dtype=torch.long, device=query.device)
    return F.cross_entropy(logits, targets), logits


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1).

        ℓ(i, j) = −log[ exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ) ],   L = (1/2N) Σ over the 2N views i of ℓ(i, j(i))

    over the 2N views of N images, j(i) being the other view of i's image and s the dot product of
    L2-normalised projections. first, second: (N, D), L2-normalised, row n of each a view of image n.
    Every other view in the batch is a negative: 2(N − 1) of them. Returns the loss and the contrast
    accuracy, the fraction of views whose most similar other view is their partner.
    """
    views = torch.cat([first, second])  # (2N, D)
    n = len(first)
    itself = torch.eye(2 * n, dtype=torch.bool, device=views.device)
    logits = (views @ views.T / temperature).masked_fill(itself, float("-inf"))  # (2N, 2N), no self-pairs
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(views.device)  # j(i)
    return F.cross_entropy(logits, partner), (logits.argmax(dim=1) == partner).float().mean()


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BYOL's regression loss (Grill et al. 2020, eq. 2), the mean squared error of unit vectors:

        L = (1/N) Σ_i ‖ p_i/‖p_i‖ − z_i/‖z_i‖ ‖² = (1/N) Σ_i (2 − 2·cos(p_i, z_i))

    prediction p: (N, D), the online network's predictor output; target z: (N, D), the target network's
    projection of the other view (no gradient flows into it: the caller detaches it).
    """
    return (2 - 2 * F.cosine_similarity(prediction, target, dim=1)).mean()
