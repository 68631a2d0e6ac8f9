"""uvl: unsupervised visual learning, one reproducible DVC pipeline from raw MNIST to a comparison table."""
