"""Instance discrimination with a memory bank (Wu, Xiong, Yu, Lin, CVPR 2018: "Unsupervised feature learning
via non-parametric instance discrimination").

Every training image is its own class. The classifier has no weights: the "class vector" of image i is
its own feature f_i, kept in a memory bank of one L2-normalised vector per training image, so the score of
a feature v for image i is v·f_i/τ. The n-way softmax over all images is approximated from m entries
drawn from the bank at random: by NCE in the paper (`objective: nce`,
uvl.losses.contrastive.instance_nce_loss: the feature must tell its image's entry, data, from the m
entries, noise), or by the softmax over its entry and the m others (`objective: softmax`, InfoNCE, as
MoCo's paper runs the memory bank it compares with; the default, see below). After each step the batch's entries move towards the new features,
f_i ← normalise(μ·f_i + (1 − μ)·v_i). Because an image's entry is refreshed only once an epoch, training
oscillates; the proximal term λ‖v_i − f_i‖² holds each feature close to its previous value.

Evaluation as MoCo's: the clusterings of uvl.clustering.features (row `memory_bank`: N2D's UMAP + GMM;
k-means rows `memory_bank_kmeans_whitened` and `memory_bank_kmeans`), then linear-probe and kNN accuracy.

Differences from the paper:
- The encoder is the seed poster's small ConvNet, its 128 features L2-normalised (the paper: a ResNet
  with a 128-d linear layer).
- Digit augmentations: one random affine map per image a step; no crop, flip or colour jitter.
- The default objective is the sampled softmax, not NCE: NCE's normaliser Z, estimated on the first step
  and then fixed (as the official code does), is estimated against the random bank, and once the bank
  holds real features, which on digits start out nearly alike, the noise entries score far above it and
  the loss diverges (docs/methods/memory_bank.md). The bank starts as random unit vectors from the seed.
- SGD with momentum and a cosine schedule (the paper: step decay).

The code is uvl.models.memory_bank, which PIRL (uvl.methods.pirl) shares. docs/methods/memory_bank.md has
what was tried and measured.
"""

from __future__ import annotations

import numpy as np

from uvl.clustering.features import cluster_features
from uvl.models.memory_bank import MemoryBank, MemoryBankParams

PUBLISHED = []  # the paper reports CIFAR-10 and ImageNet; we know of no MNIST figure (anchors)
TASK = "clustering"
SELECTED_ON = ("not tuned: the paper's m, τ and λ, the official code's μ, MoCo's encoder and optimiser; the "
               "clustering rows' settings are MoCo's")


Params = MemoryBankParams


def build(params: Params) -> MemoryBank:
    return MemoryBank(params)


def cluster(features: np.ndarray, params: Params, model: MemoryBank) -> dict[str, np.ndarray]:
    """features: (N, D) L2-normalised encoder features from `MemoryBank.embed`."""
    return cluster_features("memory_bank", features, params, params.seed)
