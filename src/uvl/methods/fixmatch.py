"""FixMatch: K. Sohn, D. Berthelot, C.-L. Li, Z. Zhang, N. Carlini, E. D. Cubuk, A. Kurakin, H. Zhang, C. Raffel,
"FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence", NeurIPS 2020. Not in the
seeds; what practitioners use today.

Each unlabelled image is seen twice: a weakly transformed view gives a pseudo-label, kept only where the
model is confident, and a strongly transformed view is trained to predict it:

    L = CE(labelled, weak) + λ_u · (1 / μB) Σ_b 1[max p(y | weak(u_b)) >= τ] · CE(p(y | strong(u_b)), argmax p(y | weak(u_b)))

μB unlabelled images a step for B labelled ones (μ = 7, τ = 0.95, λ_u = 1 in the paper). The threshold is
what pseudo-labelling lacks: an unconfident guess trains nothing, so early mistakes are not confirmed.

Differences from the paper:
- the network is the poster's ConvNet (uvl.models.classifier), trained with Adam and a cosine learning rate
  (the paper: a Wide ResNet, SGD with Nesterov momentum), and it is evaluated as trained, without the
  paper's exponential moving average of the weights;
- the strong transform is a strong random affine transform and a cutout square (`cutout`), not
  RandAugment's colour and shape operations, most of which mean nothing for grey digits;
- an epoch is one pass over the unlabelled images; the model kept is the epoch of best accuracy on the
  validation slice (uvl.models.semi_supervised).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, PositiveInt

from uvl.data.augment import AugmentParams, random_affine
from uvl.engine import Batch
from uvl.models.classifier import ClassifierParams
from uvl.models.semi_supervised import SemiSupervised
from uvl.models.weak_strong import confident_pseudo_label_loss, cutout
from uvl.params import ClassificationFields, TrainParams

PUBLISHED = []  # the paper's figures are CIFAR-10, SVHN and STL-10; we know of no MNIST one to compare with
TASK = "classification"
SELECTED_ON = "the epoch of best validation accuracy; μ, τ and λ_u are the paper's, not tuned"


class Params(TrainParams, ClassificationFields, ClassifierParams):
    # `augment` is the weak transform (of the labelled images and of the pseudo-labels' views)
    strong_augment: AugmentParams  # the strong transform, before the cutout
    cutout: float = Field(ge=0, lt=1)  # side of the square set to 0, as a fraction of the image's side
    unlabelled_ratio: PositiveInt  # μ: unlabelled images a step per labelled one
    threshold: float = Field(ge=0, le=1)  # τ: confidence a pseudo-label needs
    unlabelled_weight: NonNegativeFloat  # λ_u


class FixMatch(SemiSupervised):
    def __init__(self, params: Params):
        super().__init__(params)
        self.strong_augment, self.cutout_fraction = params.strong_augment, params.cutout
        self.threshold, self.unlabelled_weight = params.threshold, params.unlabelled_weight  # τ, λ_u

    def unlabelled_batch_size(self, params: Params) -> int:
        return params.unlabelled_ratio * params.batch_size  # μB

    def training_step(self, labelled: Batch, unlabelled: Batch):
        logits = self.classify(random_affine(labelled.images, self.augment))  # (B, K)
        labelled_loss = F.cross_entropy(logits, labelled.labels)
        with torch.no_grad():
            weak_logits = self.classify(random_affine(unlabelled.images, self.augment))  # (μB, K)
        strong = cutout(random_affine(unlabelled.images, self.strong_augment), self.cutout_fraction)
        unlabelled_loss, mask = confident_pseudo_label_loss(self.classify(strong), weak_logits, self.threshold)
        loss = labelled_loss + self.unlabelled_weight * unlabelled_loss
        return loss, {"labelled_loss": labelled_loss.detach(), "unlabelled_loss": unlabelled_loss.detach(),
                      "confident_fraction": mask.float().mean(),
                      "train_accuracy": (logits.detach().argmax(dim=1) == labelled.labels).float().mean()}


def build(params: Params) -> FixMatch:
    return FixMatch(params)
