"""Losses and assignments of deep embedded clustering (DEC, IDEC)."""

from __future__ import annotations

import torch


def student_t_assignment(embeddings: torch.Tensor, centres: torch.Tensor, alpha: float) -> torch.Tensor:
    """Soft assignment of DEC (Xie et al. 2016, eq. 1), a Student's t kernel around each centre:

        q_ij = (1 + ||z_i − μ_j||² / α)^(−(α+1)/2) / Σ_j' (1 + ||z_i − μ_j'||² / α)^(−(α+1)/2)

    embeddings z: (N, D); centres μ: (K, D); α > 0 degrees of freedom. Returns q: (N, K), rows sum to 1.
    """
    squared_distance = torch.cdist(embeddings, centres).pow(2)  # (N, K)
    kernel = (1.0 + squared_distance / alpha).pow(-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's auxiliary target (eq. 3): sharpen q and divide by the soft cluster frequency f_j = Σ_i q_ij,

        p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j')

    q: (N, K) over the whole dataset. Returns p: (N, K), rows sum to 1.
    """
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)  # (N, K)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(P || Q) = (1/N) Σ_i Σ_j p_ij log(p_ij / q_ij), averaged over the N rows; p, q: (N, K)."""
    return torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
