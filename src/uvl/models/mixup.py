"""MixMatch's pieces (Berthelot et al. 2019), which MixMatch and DivideMix share: sharpening of guessed
labels, MixUp with λ' = max(λ, 1 − λ), and the two losses on soft targets."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sharpen(probabilities: torch.Tensor, temperature: float) -> torch.Tensor:
    """Sharpen(p, T)_i = p_i^(1/T) / Σ_j p_j^(1/T), row by row of (B, K)."""
    powered = probabilities ** (1 / temperature)
    return powered / powered.sum(dim=1, keepdim=True)


def mixup(images: torch.Tensor, targets: torch.Tensor, other_images: torch.Tensor, other_targets: torch.Tensor,
          lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """MixUp with λ' = max(λ, 1 − λ) per image: (λ'·x + (1 − λ')·x₂, λ'·p + (1 − λ')·p₂).
    images (B, C, H, W), targets (B, K), lam (B,) drawn from Beta(α, α)."""
    lam = torch.maximum(lam, 1 - lam)
    return (lam.view(-1, 1, 1, 1) * images + (1 - lam.view(-1, 1, 1, 1)) * other_images,
            lam.view(-1, 1) * targets + (1 - lam.view(-1, 1)) * other_targets)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """−(1/B) Σ_b Σ_k p_bk · log softmax(logits)_bk."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def squared_error(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(1/(B·K)) Σ ||p − softmax(logits)||², MixMatch's unlabelled loss."""
    return (F.softmax(logits, dim=1) - targets).pow(2).mean()
