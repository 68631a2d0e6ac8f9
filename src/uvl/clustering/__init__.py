"""Clustering parts that methods share: a mixture chosen by consensus of its starts (consensus), UMAP then a
mixture (n2d), and deep embedded clustering's model and self-training (embedded, DEC's and IDEC's)."""
