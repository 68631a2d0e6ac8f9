"""Co-teaching: B. Han, Q. Yao, X. Yu, G. Niu, M. Xu, W. Hu, I. Tsang, M. Sugiyama, "Co-teaching: Robust
Training of Deep Neural Networks with Extremely Noisy Labels", NeurIPS 2018. A baseline of noisy-label
learning beside DivideMix.

Networks learn clean patterns before they memorise noise, so an image with a small loss is likely clean.
Two networks train side by side; in every batch each keeps the fraction R(T) of images with its smallest
losses, and the *other* network learns from them (so that a network's own selection errors are not fed
back to it):

    L = CE_1(small-loss images of network 2) + CE_2(small-loss images of network 1),
    R(T) = 1 − min(T / T_k · τ, τ)   (T the epoch, τ the forget rate, the noise rate when it is known).

The prediction is the first network's, as the paper reports.

Differences from the paper: the poster's ConvNet with random affine transforms (uvl.models.classifier) and a
cosine learning rate (the paper: its 9-layer CNN, 200 epochs, Adam with a decaying rate and momentum); the
model kept is the epoch of best accuracy on the validation slice, as noisy as the training labels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeInt

from uvl.data.augment import random_affine
from uvl.engine import Batch, Method, Stream
from uvl.models.classifier import Classifier, ClassifierParams
from uvl.params import ClassificationFields, TrainParams
from uvl.published import Published

PUBLISHED = [
    Published(row="coteaching", value=0.9771, source="Co-teaching's MNIST CNN (Han et al. 2018)",
              when={"labels.noise_rate": 0.2, "labels.noise_kind": "symmetric"}),
    Published(row="coteaching", value=0.9168, source="Co-teaching's MNIST CNN (Han et al. 2018)",
              when={"labels.noise_rate": 0.5, "labels.noise_kind": "symmetric"}),
]
TASK = "classification"
SELECTED_ON = ("the epoch of best accuracy on the noisy validation slice; the forget rate is the noise rate "
               "(the paper's assumption that it is known) and T_k the paper's share of the schedule, not tuned")


class Params(TrainParams, ClassificationFields, ClassifierParams):
    forget_rate: float = Field(ge=0, lt=1)  # τ: the share of each batch left out at the end of the ramp
    ramp_epochs: NonNegativeInt  # T_k: epochs over which the share left out rises linearly to τ


def kept_share(epoch: int, forget_rate: float, ramp_epochs: int) -> float:
    """R(T) = 1 − min(T / T_k · τ, τ)."""
    return 1 - (min(epoch / ramp_epochs * forget_rate, forget_rate) if ramp_epochs else forget_rate)


def cross_update_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, labels: torch.Tensor,
                      keep: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each network's cross-entropy on the `keep` images with the other's smallest losses:
    CE_a(argsmallest_keep CE_b) + CE_b(argsmallest_keep CE_a). Returns the loss and the images each kept."""
    loss_a = F.cross_entropy(logits_a, labels, reduction="none")
    loss_b = F.cross_entropy(logits_b, labels, reduction="none")
    kept_by_a = torch.argsort(loss_a.detach(), stable=True)[:keep]
    kept_by_b = torch.argsort(loss_b.detach(), stable=True)[:keep]
    return loss_a[kept_by_b].mean() + loss_b[kept_by_a].mean(), kept_by_a, kept_by_b


class CoTeaching(Method):
    select_epoch_on_validation = True

    def __init__(self, params: Params):
        super().__init__()
        self.forget_rate, self.ramp_epochs = params.forget_rate, params.ramp_epochs  # τ, T_k
        self.networks = torch.nn.ModuleList([Classifier(params), Classifier(params)])
        self.kept = 1.0  # R(T) at the current step (before_step sets it)

    def before_step(self, step: int, streams: dict[str, Stream]) -> bool:
        labelled = streams["labelled"]
        self.kept = kept_share(step // labelled.steps_per_epoch, self.forget_rate, self.ramp_epochs)
        return True

    def training_step(self, labelled: Batch):
        first, second = (network.classify(random_affine(labelled.images, network.augment)) for network in self.networks)
        keep = max(1, round(self.kept * len(labelled.images)))
        loss, kept_by_first, kept_by_second = cross_update_loss(first, second, labelled.labels, keep)
        agreement = torch.isin(kept_by_first, kept_by_second).float().mean()  # of the two selections
        return loss, {"kept_share": loss.detach() * 0 + self.kept, "selection_agreement": agreement}

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        return self.networks[0].classify(images)  # (B, K)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.networks[0].embed(images)


def build(params: Params) -> CoTeaching:
    return CoTeaching(params)
