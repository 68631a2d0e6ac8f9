"""Pseudo-labelling: D.-H. Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised Learning Method for
Deep Neural Networks", ICML 2013 Workshop on Challenges in Representation Learning; as the seed lecture
notes give it (../shared/seeds/004_8351fc7cd0b7840d.txt, "Pseudo-Labeling").

Each unlabelled image's label is the current model's argmax; the loss adds their cross-entropy to the
labelled images', weighted by α(t), which is 0 for the first T1 epochs (the labelled images alone), rises
linearly to α_f at T2 and stays there:

    L = CE(labelled) + α(t) · CE(unlabelled, argmax f(unlabelled))

It works where the labelled images already place the clusters; the notes' failure cases (1 or 2 labels per
class, a class with no label) are the ablation grid of docs/methods/pseudo_label.md.

Differences from the notes:
- the network is the poster's ConvNet with random affine transforms (uvl.models.classifier), trained with
  Adam and a cosine learning rate; Lee's was an MLP with dropout and SGD;
- an epoch is one pass over the unlabelled images (each step takes `batch_size` labelled and
  `unlabelled_batch_size` unlabelled ones, Lee's 32 and 256), so the labelled images go round many times an
  epoch and T1, T2 and the length count far fewer epochs than the notes' 100 and 170;
- the notes' α(t) reaches 1 at T2 and then jumps to α_f; here it ramps to α_f, as Lee's does;
- the pseudo-label of an image is taken from the forward pass that its loss uses (one pass, as the notes
  say), on the randomly transformed image;
- the model kept is the epoch of best accuracy on the validation slice of the training split (uvl.engine);
  the notes' "best epoch" was read on the test split.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from uvl.data.augment import random_affine
from uvl.engine import Batch, Stream
from uvl.models.classifier import ClassifierParams
from uvl.models.semi_supervised import SemiSupervised
from uvl.params import ClassificationFields, TrainParams
from uvl.published import Published, PublishedGrid

PUBLISHED = [
    Published(row="pseudo_label", value=0.9846, source="seed lecture notes, 1,000 labels",
              note="Their best epoch (168 of 170) was read on the test split.",
              when={"labels.per_class": 100, "labels.classes_left_out": []}),
    Published(row="pseudo_label", value=0.4332, source="seed lecture notes, 20 labels, after 95 epochs",
              when={"labels.per_class": 2, "labels.classes_left_out": []}),
    Published(row="pseudo_label", value=0.1135, source="seed lecture notes, 10 labels",
              note="11.35% is the share of the digit 1 in MNIST's test split: every image one class.",
              when={"labels.per_class": 1, "labels.classes_left_out": []}),
    Published(row="pseudo_label", value=0.8798, source="seed lecture notes, 900 labels, no 7",
              note="85.6% before pseudo-labelling; the 7s are never learned.",
              when={"labels.per_class": 100, "labels.classes_left_out": [7]}),
]
# the notes' failure cases, for `python -m uvl.reports.ablation pseudo_label labels.per_class labels.classes_left_out`
PUBLISHED_GRID = PublishedGrid(
    row_param="labels.per_class", column_param="labels.classes_left_out",
    cells={(100, ()): 0.9846, (2, ()): 0.4332, (1, ()): 0.1135, (100, (7,)): 0.8798},
    source="seed lecture notes, pseudo-labelling's failures",
    note="Their figures are best test epochs of one run each (2 labels a class: after 95 epochs).",
    failures={(2, ()): "pseudo-labels confirm the first mistakes", (1, ()): "every image one class",
              (100, (7,)): "the 7s are never learned, 85.6% before pseudo-labelling"})
TASK = "classification"
SELECTED_ON = ("the epoch of best validation accuracy; T1, T2, α_f and the batch sizes are the notes' and Lee's, "
               "not tuned")


class Params(TrainParams, ClassificationFields, ClassifierParams):
    unlabelled_batch_size: PositiveInt  # unlabelled images a step; `batch_size` is the labelled ones'
    ramp_start: NonNegativeInt  # T1: epochs of labelled images alone (α = 0)
    ramp_end: NonNegativeInt  # T2: α reaches α_f
    alpha_final: PositiveFloat  # α_f

    @model_validator(mode="after")
    def _ramp_in_order(self):
        if not self.ramp_start <= self.ramp_end <= self.epochs:
            raise ValueError(f"needs ramp_start <= ramp_end <= epochs (got {self.ramp_start}, {self.ramp_end}, "
                             f"{self.epochs})")
        return self


def alpha(epoch: int, ramp_start: int, ramp_end: int, alpha_final: float) -> float:
    """α(t) = 0 for t < T1;  α_f · (t − T1) / (T2 − T1) for T1 <= t < T2;  α_f for t >= T2."""
    if epoch < ramp_start:
        return 0.0
    if epoch >= ramp_end:
        return alpha_final
    return alpha_final * (epoch - ramp_start) / (ramp_end - ramp_start)


def pseudo_label_loss(logits: torch.Tensor) -> torch.Tensor:
    """CE(f(x), argmax f(x)) over a batch of (B, K) logits; the argmax is a constant, not differentiated."""
    return F.cross_entropy(logits, logits.detach().argmax(dim=1))


class PseudoLabel(SemiSupervised):
    def __init__(self, params: Params):
        super().__init__(params)
        self.schedule = (params.ramp_start, params.ramp_end, params.alpha_final)  # T1, T2, α_f
        self.alpha = 0.0  # α at the current step (before_step sets it)

    def unlabelled_batch_size(self, params: Params) -> int:
        return params.unlabelled_batch_size

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        unlabelled = streams["unlabelled"]
        self.alpha = alpha(step // unlabelled.steps_per_epoch, *self.schedule)
        return True

    def training_step(self, labelled: Batch, unlabelled: Batch):
        logits = self.classify(random_affine(labelled.images, self.augment))  # (B, K)
        labelled_loss = F.cross_entropy(logits, labelled.labels)
        unlabelled_loss = (pseudo_label_loss(self.classify(random_affine(unlabelled.images, self.augment)))
                           if self.alpha > 0 else torch.zeros((), device=logits.device))  # no pass while α = 0
        loss = labelled_loss + self.alpha * unlabelled_loss
        return loss, {"labelled_loss": labelled_loss.detach(), "pseudo_label_loss": unlabelled_loss.detach(),
                      "alpha": torch.tensor(self.alpha),
                      "train_accuracy": (logits.detach().argmax(dim=1) == labelled.labels).float().mean()}


def build(params: Params) -> PseudoLabel:
    return PseudoLabel(params)
