"""FixMatch's two views of an unlabelled image (Sohn et al. 2020; fixmatch.py, cluster_then_label.py): the
cutout of the strong view, and the loss that trains the strong view on a confident weak view's argmax."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cutout(images: torch.Tensor, fraction: float) -> torch.Tensor:
    """(B, C, H, W) -> the same, each image with its own square of side round(fraction·H) set to 0, centred
    at a uniformly drawn pixel (clipped at the borders), as in DeVries & Taylor (2017)."""
    if fraction == 0:
        return images
    batch, _, height, width = images.shape
    half = round(fraction * height) / 2
    centre_y = torch.randint(height, (batch, 1, 1), device=images.device)
    centre_x = torch.randint(width, (batch, 1, 1), device=images.device)
    rows = torch.arange(height, device=images.device).view(1, height, 1)
    columns = torch.arange(width, device=images.device).view(1, 1, width)
    inside = ((rows - centre_y).abs() < half) & ((columns - centre_x).abs() < half)  # (B, H, W)
    return images * ~inside.unsqueeze(1)


def confident_pseudo_label_loss(strong_logits: torch.Tensor, weak_logits: torch.Tensor,
                                threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(1/B) Σ_b 1[max softmax(weak_b) >= τ] · CE(strong_b, argmax weak_b), over (B, K) logits; the weak
    view's prediction is a constant. Returns the loss and the mask of confident images (B,)."""
    confidence, pseudo_labels = F.softmax(weak_logits.detach(), dim=1).max(dim=1)
    mask = confidence >= threshold
    loss = (F.cross_entropy(strong_logits, pseudo_labels, reduction="none") * mask).mean()
    return loss, mask
