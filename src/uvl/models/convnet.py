"""The seed poster's small ConvNet: two 3x3 convolutions, one 2x2 max-pool, one fully connected layer."""

from __future__ import annotations

from torch import nn
from torchvision.ops import Permute


def small_convnet(out_features: int) -> nn.Sequential:
    """(B, 1, 28, 28) -> (B, out_features).

    The poster does not give the order; pooling between the convolutions makes the second one 4.8x cheaper
    than pooling after both (the layout of a common MoCo-on-MNIST port). The first ReLU runs after the
    pooling: max-pooling and ReLU commute (both are monotone and exact), so outputs and gradients are bit
    for bit those of conv-ReLU-pool, and the ReLU and its backward touch a quarter of the values. No
    BatchNorm, so a contrastive task cannot use batch statistics to tell positives apart (what MoCo's
    shuffled BN guards against).

    The features are flattened pixel by pixel, channels fastest: the order in which the engine's
    channels_last layout stores them, so flattening is a view and so is its gradient (flattening channel
    by channel copied the activations). docs/methods/engine.md has the speed measurements.
    """
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),  # (B, 32, 26, 26)
        nn.MaxPool2d(2), nn.ReLU(),  # (B, 32, 13, 13)
        nn.Conv2d(32, 64, 3), nn.ReLU(),  # (B, 64, 11, 11)
        Permute([0, 2, 3, 1]), nn.Flatten(),  # (B, 7744), channels fastest
        nn.Linear(64 * 11 * 11, out_features),
    )
