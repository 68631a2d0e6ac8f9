"""DivideMix: J. Li, R. Socher, S. C. H. Hoi, "DivideMix: Learning with Noisy Labels as Semi-supervised
Learning", ICLR 2020; as the seed notes and ../shared/reference/method_specs.md (section 6) give it.

Noisy labels are learnt as a semi-supervised problem. Two networks are warmed up with cross-entropy; then,
before every epoch, each network's per-sample losses on the training images (min-max normalised) are fitted
with a two-component Gaussian mixture, and an image's clean probability w is the posterior of the low-loss
component (`clean_probability`): small-loss images are the ones a network has learnt before memorising
noise. Images with w > τ are labelled for the *other* network (co-divide, so that the two do not confirm
their own mistakes), the rest unlabelled; each network then takes a MixMatch step (uvl.models.mixup):

- label co-refinement: y' = Sharpen(w·y + (1 − w)·p̄), p̄ the network's mean prediction over 2 views;
- label co-guessing: q = Sharpen(mean of both networks' predictions over 2 views) for the unlabelled ones;
- MixUp of all of them with λ ~ Beta(α, α), λ' = max(λ, 1 − λ);
- L = L_x + λ_u · ramp(t) · L_u + Σ_c π_c log(π_c / p̄_c)  (soft cross-entropy, squared error, and a
  uniform prior π against the mean prediction p̄ of the batch, so that no class takes over).

The prediction is the sum of both networks' logits.

Differences from the paper:
- the networks are the poster's ConvNet (uvl.models.classifier) trained with Adam and a cosine learning rate
  (the paper: PreAct ResNet-18s with SGD, 300 epochs on CIFAR);
- each step takes one batch of the noisy training images and splits it by the peer's division (the paper
  draws labelled and unlabelled batches of equal size from the two subsets), and trains both networks in
  the same step (the paper alternates them epoch by epoch);
- the model kept is the epoch of best accuracy on the validation slice, whose labels are as noisy as the
  training labels (uvl.data.protocol: a noisy-label method is chosen on what it can see).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat
from sklearn.mixture import GaussianMixture

from uvl.data.augment import random_affine
from uvl.engine import Batch, Method, Stream, derive_seed, in_batches
from uvl.models.classifier import Classifier, ClassifierParams
from uvl.models.mixup import mixup, sharpen, soft_cross_entropy, squared_error
from uvl.models.per_image import register_per_image_buffer
from uvl.params import ClassificationFields, TrainParams
from uvl.published import Published

PUBLISHED = [
    Published(row="dividemix", value=value, source=f"{source}, the same noise", note=note,
              when={"labels.noise_rate": rate, "labels.noise_kind": kind})
    for rate, kind, value, source, note in [
        (0.2, "symmetric", 0.9771, "Co-teaching's MNIST CNN (Han et al. 2018)", "JoCoR's MLP: 98.06%."),
        (0.5, "symmetric", 0.9168, "Co-teaching's MNIST CNN (Han et al. 2018)", "JoCoR's MLP: 96.64%."),
        (0.8, "symmetric", 0.8489, "JoCoR's MNIST MLP (Wei et al. 2020)", ""),
        (0.4, "asymmetric", 0.9524, "JoCoR's MNIST MLP (Wei et al. 2020)", ""),
    ]
]
TASK = "classification"
SELECTED_ON = ("the epoch of best accuracy on the noisy validation slice; τ, T, α, the GMM's settings and λ_u "
               "per noise rate are the paper's, not tuned")


class Params(TrainParams, ClassificationFields, ClassifierParams):
    warmup_epochs: NonNegativeInt  # plain cross-entropy, before the first division
    # weight of the negative-entropy penalty during warm-up (the paper's for asymmetric noise: 1; else 0)
    warmup_confidence_penalty: NonNegativeFloat
    clean_threshold: float = Field(gt=0, lt=1)  # τ: an image whose clean probability w exceeds it is labelled
    temperature: PositiveFloat  # T of the sharpening
    mixup_alpha: PositiveFloat  # α of Beta(α, α)
    unlabelled_weight: NonNegativeFloat  # λ_u (the paper's: 0 at 20% symmetric and 40% asymmetric, 25 at 50%)
    ramp_epochs: NonNegativeInt  # epochs after warm-up over which λ_u's ramp rises linearly to 1


def clean_probability(losses: np.ndarray, seed: int) -> np.ndarray:
    """The posterior of the low-mean component of a two-component Gaussian mixture fitted to the min-max
    normalised per-sample losses (N,) -> (N,) in [0, 1]. The paper's GMM: max_iter 10, tol 1e-2, reg_covar 5e-4."""
    normalised = (losses - losses.min()) / max(losses.max() - losses.min(), np.finfo(np.float64).tiny)
    mixture = GaussianMixture(n_components=2, max_iter=10, tol=1e-2, reg_covar=5e-4, random_state=seed)
    mixture.fit(normalised.reshape(-1, 1))
    return mixture.predict_proba(normalised.reshape(-1, 1))[:, mixture.means_.argmin()]


def prior_penalty(logits: torch.Tensor) -> torch.Tensor:
    """Σ_c π_c log(π_c / p̄_c), π uniform, p̄ the batch's mean softmax: 0 when the batch predicts every class
    equally often on average."""
    prior = torch.full((logits.shape[1],), 1 / logits.shape[1], device=logits.device)
    return (prior * torch.log(prior / F.softmax(logits, dim=1).mean(dim=0))).sum()


class DivideMix(Method):
    select_epoch_on_validation = True

    def __init__(self, params: Params):
        super().__init__()
        self.params = params
        self.networks = torch.nn.ModuleList([Classifier(params), Classifier(params)])
        # (2, N): each network's clean probability of every training image, from its last division
        register_per_image_buffer(self, "clean")
        self.epoch = 0  # the current epoch (before_step sets it)

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        labelled = streams["labelled"]
        self.epoch, position = divmod(step, labelled.steps_per_epoch)
        if self.epoch >= self.params.warmup_epochs and (position == 0 or len(self.clean) == 0):
            self.clean = self.divide(labelled, derive_seed(self.params.seed, self.epoch))
        return True

    def divide(self, labelled: Stream, seed: int) -> torch.Tensor:
        """(2, N): each network's clean probability of each training image, from its per-sample losses."""
        probabilities = []
        for network in self.networks:
            with torch.no_grad():
                logits = in_batches(network.classify, self, labelled.images)
            losses = F.cross_entropy(logits, labelled.labels, reduction="none")
            probabilities.append(clean_probability(losses.cpu().double().numpy(), seed))
        return torch.from_numpy(np.stack(probabilities)).float().to(labelled.images.device)

    def training_step(self, labelled: Batch):
        if self.epoch < self.params.warmup_epochs:
            return self.warmup_step(labelled)
        ramp = (min(1.0, (self.epoch - self.params.warmup_epochs + 1) / self.params.ramp_epochs)
                if self.params.ramp_epochs else 1.0)
        losses = [self.mixmatch_step(network, peer, labelled, self.clean[1 - k][labelled.indices], ramp)
                  for k, (network, peer) in enumerate([self.networks, self.networks[::-1]])]
        loss = sum(total for total, _ in losses)
        scalars = {key: sum(parts[key] for _, parts in losses) / 2 for key in losses[0][1]}
        return loss, {**scalars, "ramp": loss.detach() * 0 + ramp}

    def warmup_step(self, labelled: Batch):
        loss = 0
        for network in self.networks:
            logits = network.classify(random_affine(labelled.images, network.augment))
            probabilities = F.softmax(logits, dim=1)
            negative_entropy = (probabilities * torch.log(probabilities.clamp_min(1e-12))).sum(dim=1).mean()
            loss = loss + F.cross_entropy(logits, labelled.labels) + self.params.warmup_confidence_penalty * negative_entropy
        zero = loss.detach() * 0
        return loss, {"labelled_loss": loss.detach() / 2, "unlabelled_loss": zero, "penalty": zero,
                      "clean_fraction": zero + 1, "ramp": zero}

    def mixmatch_step(self, network: Classifier, peer: Classifier, batch: Batch, clean_probability: torch.Tensor,
                      ramp: float):
        p = self.params
        clean = clean_probability > p.clean_threshold
        w = clean_probability[clean].unsqueeze(1)  # (X, 1)
        x, u = batch.images[clean], batch.images[~clean]
        x_views = [random_affine(x, network.augment) for _ in range(2)]
        u_views = [random_affine(u, network.augment) for _ in range(2)]
        with torch.no_grad():
            given = F.one_hot(batch.labels[clean], p.n_classes).float()
            own = sum(F.softmax(network.classify(view), dim=1) for view in x_views) / 2
            refined = sharpen(w * given + (1 - w) * own, p.temperature)  # co-refinement
            guessed = sharpen(sum(F.softmax(net.classify(view), dim=1) for net in (network, peer) for view in u_views)
                              / 4, p.temperature)  # co-guessing
        images = torch.cat([*x_views, *u_views])
        targets = torch.cat([refined, refined, guessed, guessed])
        lam = torch.distributions.Beta(p.mixup_alpha, p.mixup_alpha).sample(()).expand(len(images))  # one λ a batch
        shuffled = torch.randperm(len(images), device=images.device)
        mixed, mixed_targets = mixup(images, targets, images[shuffled], targets[shuffled], lam.to(images.device))
        logits = network.classify(mixed)
        n_x = 2 * len(x)
        labelled_loss = soft_cross_entropy(logits[:n_x], mixed_targets[:n_x]) if n_x else logits.sum() * 0
        unlabelled_loss = squared_error(logits[n_x:], mixed_targets[n_x:]) if len(u) else logits.sum() * 0
        penalty = prior_penalty(logits)
        loss = labelled_loss + p.unlabelled_weight * ramp * unlabelled_loss + penalty
        return loss, {"labelled_loss": labelled_loss.detach(), "unlabelled_loss": unlabelled_loss.detach(),
                      "penalty": penalty.detach(), "clean_fraction": clean.float().mean()}

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return sum(network.classify(images) for network in self.networks)  # (B, K)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([network.embed(images) for network in self.networks], dim=1)


def build(params: Params) -> DivideMix:
    return DivideMix(params)
