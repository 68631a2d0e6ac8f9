"""Data: datasets in one schema (datasets), where they come from (mnist, digits, idx), what training sees of them
(protocol) and batched augmentation (augment)."""
