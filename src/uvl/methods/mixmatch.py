"""MixMatch: D. Berthelot, N. Carlini, I. Goodfellow, N. Papernot, A. Oliver, C. Raffel, "MixMatch: A Holistic
Approach to Semi-Supervised Learning", NeurIPS 2019; as the seed notes give it
(../shared/seeds/000_7f5843ee00cf3617.txt, "MixMatch").

Each step transforms the labelled batch once and every unlabelled image K times; the guessed label of an
unlabelled image is the model's mean prediction over its K views, sharpened at temperature T. Labelled and
unlabelled views with their (one-hot or guessed) targets are then mixed with a shuffled copy of all of them
(MixUp, λ ~ Beta(α, α), λ' = max(λ, 1 − λ), so a mixed image stays closer to its own), and

    L = L_x + λ_u · ramp(t) · L_u,   L_x = soft cross-entropy on the mixed labelled images,
    L_u = (1 / (K·|U|·C)) Σ ||q − p_model(y | u')||²  on the mixed unlabelled ones.

Differences from the paper:
- the network is the poster's ConvNet (uvl.models.classifier), trained with Adam and a cosine learning rate,
  evaluated as trained (the paper: a Wide ResNet, with an exponential moving average of the weights and
  weight decay);
- the transforms are random affine ones (no flips for digits); ramp(t) is linear over `ramp_epochs` passes
  over the unlabelled images;
- the model kept is the epoch of best accuracy on the validation slice (uvl.models.semi_supervised).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from uvl.data.augment import random_affine
from uvl.engine import Batch, Stream
from uvl.models.classifier import ClassifierParams
from uvl.models.mixup import mixup, sharpen, soft_cross_entropy, squared_error
from uvl.models.semi_supervised import SemiSupervised
from uvl.params import ClassificationFields, TrainParams

PUBLISHED = []  # the paper's figures are CIFAR-10, CIFAR-100, SVHN and STL-10; we know of no MNIST one
TASK = "classification"
SELECTED_ON = "the epoch of best validation accuracy; K, T, α and λ_u are the paper's, not tuned"


class Params(TrainParams, ClassificationFields, ClassifierParams):
    augmentations: PositiveInt  # K: views of each unlabelled image for its guessed label
    temperature: PositiveFloat  # T of the sharpening
    mixup_alpha: PositiveFloat  # α of Beta(α, α)
    unlabelled_weight: NonNegativeFloat  # λ_u
    ramp_epochs: NonNegativeInt  # epochs over which λ_u's ramp rises linearly from 0 to 1
    # a step takes `batch_size` labelled and as many unlabelled images, as in the paper


class MixMatch(SemiSupervised):
    def __init__(self, params: Params):
        super().__init__(params)
        self.n_classes, self.views = params.n_classes, params.augmentations  # C, K
        self.temperature, self.mixup_alpha = params.temperature, params.mixup_alpha  # T, α
        self.unlabelled_weight, self.ramp_epochs = params.unlabelled_weight, params.ramp_epochs  # λ_u
        self.ramp = 0.0  # ramp(t) at the current step (before_step sets it)

    def unlabelled_batch_size(self, params: Params) -> int:
        return params.batch_size

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        unlabelled = streams["unlabelled"]
        epochs = step / unlabelled.steps_per_epoch  # fractional
        self.ramp = min(1.0, epochs / self.ramp_epochs) if self.ramp_epochs else 1.0
        return True

    def training_step(self, labelled: Batch, unlabelled: Batch):
        n_labelled = len(labelled.images)
        images = random_affine(labelled.images, self.augment)  # (B, 1, H, W)
        targets = F.one_hot(labelled.labels, self.n_classes).float()
        views = random_affine(unlabelled.images.repeat(self.views, 1, 1, 1), self.augment)  # (K·U, 1, H, W), view-major
        with torch.no_grad():
            guessed = F.softmax(self.classify(views), dim=1).view(self.views, -1, self.n_classes).mean(dim=0)
            guessed = sharpen(guessed, self.temperature).repeat(self.views, 1)  # (K·U, C)
        all_images, all_targets = torch.cat([images, views]), torch.cat([targets, guessed])
        shuffled = torch.randperm(len(all_images), device=all_images.device)
        lam = torch.distributions.Beta(self.mixup_alpha, self.mixup_alpha).sample((len(all_images),)).to(all_images.device)
        mixed, mixed_targets = mixup(all_images, all_targets, all_images[shuffled], all_targets[shuffled], lam)
        logits = self.classify(mixed)
        labelled_loss = soft_cross_entropy(logits[:n_labelled], mixed_targets[:n_labelled])
        unlabelled_loss = squared_error(logits[n_labelled:], mixed_targets[n_labelled:])
        loss = labelled_loss + self.unlabelled_weight * self.ramp * unlabelled_loss
        return loss, {"labelled_loss": labelled_loss.detach(), "unlabelled_loss": unlabelled_loss.detach(),
                      "ramp": torch.tensor(self.ramp)}


def build(params: Params) -> MixMatch:
    return MixMatch(params)
