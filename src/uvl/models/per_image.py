"""State with one entry per training image (DivideMix's clean probabilities, the named clusters of
cluster_then_label): a registered buffer, so that a checkpoint keeps it, empty until training fills it and
sized by the state it is loaded from."""

from __future__ import annotations

import torch
from torch import nn


def register_per_image_buffer(module: nn.Module, name: str, dtype: torch.dtype = torch.float32) -> None:
    """Register `module.<name>`, an empty buffer that takes the shape of the state loaded into it."""
    module.register_buffer(name, torch.zeros(0, dtype=dtype))

    def take_shape(_module, state_dict, prefix, *args):
        if prefix + name in state_dict:
            setattr(module, name, torch.empty_like(state_dict[prefix + name], device=getattr(module, name).device))

    module.register_load_state_dict_pre_hook(take_shape)
