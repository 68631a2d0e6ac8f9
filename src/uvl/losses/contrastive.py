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


def barlow_twins_loss(first: torch.Tensor, second: torch.Tensor, off_diagonal_weight: float) -> torch.Tensor:
    """Barlow Twins' redundancy-reduction loss (Zbontar et al. 2021, eq. 1):

        L = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²,   C = Ã^T B̃ / N

    first A, second B: (N, D), the two views' projections; Ã, B̃ each dimension standardised over the batch
    (zero mean, unit standard deviation); C is their (D, D) cross-correlation. The first term makes each
    dimension invariant to the augmentations, the second (weight λ) decorrelates the dimensions.
    """
    standardised = [(z - z.mean(dim=0)) / z.std(dim=0) for z in (first, second)]
    correlation = standardised[0].T @ standardised[1] / len(first)  # (D, D)
    on_diagonal = torch.diagonal(correlation)
    return (1 - on_diagonal).pow(2).sum() + off_diagonal_weight * (correlation.pow(2).sum() - on_diagonal.pow(2).sum())


def whiten(points: torch.Tensor, shrinkage: float = 0.0) -> torch.Tensor:
    """points (n, D) -> (n, D) with zero mean and identity covariance: (x − μ)·L^{-T}, L the Cholesky factor
    of the (unbiased) covariance, shrunk towards I as (1 − ε)·Σ + ε·I (W-MSE's whitening). Needs n > D."""
    centred = points - points.mean(dim=0)
    covariance = centred.T @ centred / (len(points) - 1)
    eye = torch.eye(points.shape[1], dtype=points.dtype, device=points.device)
    factor = torch.linalg.cholesky((1 - shrinkage) * covariance + shrinkage * eye)  # L
    return torch.linalg.solve_triangular(factor, centred.T, upper=False).T  # (L^{-1} (x − μ)^T)^T


def w_mse_loss(first: torch.Tensor, second: torch.Tensor, whitening_size: int, shrinkage: float = 0.0) -> torch.Tensor:
    """W-MSE's loss (Ermolov et al. 2021, eq. 4): the MSE of unit vectors after whitening,

        L = mean_i ‖ w_i/‖w_i‖ − w'_i/‖w'_i‖ ‖² = mean_i (2 − 2·cos(w_i, w'_i)),   w = Whiten(z), w' = Whiten(z')

    first z, second z': (N, D), the two views' projections. The batch is shuffled and cut into sub-batches of
    `whitening_size` rows (N a multiple of it, each > D); each view of each sub-batch is whitened on its own
    (`whiten`), so the embeddings cannot collapse: they are spread out by construction, not by negatives.
    """
    loss = first.new_zeros(())
    order = torch.randperm(len(first), device=first.device).view(-1, whitening_size)
    for rows in order:
        whitened = [whiten(z[rows].float(), shrinkage) for z in (first, second)]
        loss = loss + (2 - 2 * F.cosine_similarity(*whitened, dim=1)).mean()
    return loss / len(order)


def dino_loss(student: list[torch.Tensor], teacher: list[torch.Tensor], center: torch.Tensor,
              student_temperature: float, teacher_temperature: float) -> torch.Tensor:
    """DINO's self-distillation loss (Caron et al. 2021, eq. 1 and Algorithm 1):

        L = mean over pairs (t, s), s ≠ t, of  H(P_t, P_s),  H(a, b) = −Σ_k a_k·log b_k
        P_t = softmax((g_teacher(x_t) − c)/τ_t),   P_s = softmax(g_student(x_s)/τ_s)

    student: the student's logits (B, K) on every view, the global views first; teacher: the teacher's on
    the global views, in the same order (a view is never its own target); center c: (K,) or (1, K). Centring
    keeps one prototype from taking every image, the low teacher temperature keeps the targets from being
    uniform: together they stop collapse.
    """
    targets = [F.softmax((logits - center) / teacher_temperature, dim=1) for logits in teacher]
    log_predictions = [F.log_softmax(logits / student_temperature, dim=1) for logits in student]
    losses = [-(target * log_predictions[v]).sum(dim=1).mean()
              for t, target in enumerate(targets) for v in range(len(student)) if v != t]
    return sum(losses) / len(losses)


def instance_nce_loss(query: torch.Tensor, positive: torch.Tensor, noise: torch.Tensor, temperature: float,
                      normalizer: float, n_instances: int) -> torch.Tensor:
    """NCE of instance discrimination (Wu et al. 2018, eq. 2-6), each image its own class:

        P(i|v) = exp(v·f_i/τ) / Z,   h(i, v) = P(i|v) / (P(i|v) + m·P_n(i)),   P_n = 1/n
        L = −(1/B) Σ_i [ log h(i, f_i) + Σ_{k=1..m} log(1 − h(i, f'_k)) ]

    query v: (B, D), the current features; positive f_i: (B, D), each image's memory-bank entry; noise f':
    (m, D), m entries drawn uniformly from the bank; all L2-normalised. Z ≈ n·E[exp(v·f'/τ)] is a constant
    estimated once (`normalizer`); n the number of instances. NCE turns the n-way softmax into binary
    tasks, data against noise, whose cost does not grow with n.
    """
    noise_probability = len(noise) / n_instances  # m·P_n(i)
    p_positive = torch.exp((query * positive).sum(dim=1) / temperature) / normalizer  # (B,)
    p_noise = torch.exp(query @ noise.T / temperature) / normalizer  # (B, m)
    data_term = torch.log(p_positive / (p_positive + noise_probability))
    noise_term = torch.log(noise_probability / (p_noise + noise_probability)).sum(dim=1)
    return -(data_term + noise_term).mean()
