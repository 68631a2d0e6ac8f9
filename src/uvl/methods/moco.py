"""MoCo: momentum contrast (He, Fan, Wu, Xie, Girshick, CVPR 2020; v2 head: Chen et al. 2020).

Two augmented views of each image; the query encoder f_q embeds one, the key encoder f_k the other. f_k
is not trained by gradients but follows f_q as θ_k ← m·θ_k + (1 − m)·θ_q, so keys change slowly and the
keys of past batches stay comparable. They are kept in a FIFO queue of `queue_size` (K) negatives, and
InfoNCE asks each query q to pick its own key k+ among them: L = −log exp(q·k+/τ) / Σ_k exp(q·k/τ), over
k+ and the K queued keys. The queue and f_k are module state (a buffer and a submodule), so checkpoints
carry them and the queue persists across epochs.

Evaluation: the clusterings of uvl.clustering.features on the encoder's features (N2D's UMAP + GMM, row
`moco`; k-means rows `moco_kmeans_whitened` and `moco_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, not a ResNet. It has no BatchNorm, so the contrastive
  task cannot cheat through batch statistics and several processes need no shuffled BN; their keys are
  gathered before they enter the queue, as in the paper.
- The queue is newest-first and works for any K, also K smaller than the batch (the poster's ablation
  goes down to K = 16); when K is a multiple of the batch size it holds the same keys as the paper's
  ring buffer.
- Augmentations are digit-appropriate random affine maps (rotation, shift, zoom, shear), no flips or colour.

The code is uvl.models.momentum_contrast, which EqCo (uvl.methods.eqco) shares. docs/methods/moco.md has
what was tried and measured.
"""

from __future__ import annotations

import numpy as np

from uvl.clustering.features import cluster_features
from uvl.models.momentum_contrast import MomentumContrast, MomentumContrastParams
from uvl.published import Published, PublishedGrid

PUBLISHED = [Published(row="moco", value=0.969, source="seed poster")]
# The seed poster's ablation, clustering ACC (python -m uvl.reports.ablation moco momentum queue_size)
PUBLISHED_GRID = PublishedGrid(
    row_param="momentum", column_param="queue_size",
    cells={(momentum, queue): acc / 100 for momentum, row in {
        0.9: (91.38, 95.11, 95.16, 95.31),
        0.99: (92.98, 93.27, 96.91, 96.14),
        0.999: (92.91, 94.29, 96.23, 94.87),
        0.9999: (91.2, 93.80, 94.46, 93.67),
    }.items() for queue, acc in zip((16, 32, 64, 128), row)},
    source="seed poster, MoCo ablation",
    note="The poster does not state the training budget (epochs, batch size) of its grid.")
TASK = "clustering"
# how the defaults were chosen (each metrics file's selected_on)
SELECTED_ON = ("headline row: N2D's published UMAP + GMM settings, untuned; row moco_kmeans_whitened: "
               "pca_components chosen on seed 0's labels of all images")


Params = MomentumContrastParams


def build(params: Params) -> MomentumContrast:
    return MomentumContrast(params)


def cluster(features: np.ndarray, params: Params, model: MomentumContrast) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `MomentumContrast.embed`."""
    return cluster_features("moco", features, params, params.seed)
