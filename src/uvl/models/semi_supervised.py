"""A classifier (uvl.models.classifier) trained on two streams, the task's labelled and unlabelled views, as
the semi-supervised methods are (pseudo_label, fixmatch). The unlabelled images count the epochs, each step
taking `batch_size` labelled images (all of them, when there are fewer) and `unlabelled_batch_size(params)`
unlabelled ones; the model kept is the epoch of best accuracy on the validation slice (uvl.engine)."""

from __future__ import annotations

from collections.abc import Mapping

from uvl.data.protocol import View
from uvl.models.classifier import Classifier
from uvl.params import TrainParams


class SemiSupervised(Classifier):
    select_epoch_on_validation = True

    def unlabelled_batch_size(self, params: TrainParams) -> int:
        raise NotImplementedError

    def batch_sizes(self, params: TrainParams, views: Mapping[str, View]) -> dict[str, int]:
        return {"unlabelled": self.unlabelled_batch_size(params),
                "labelled": min(params.batch_size, len(views["labelled"]))}
