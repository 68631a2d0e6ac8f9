"""Scoring, whatever produced the outputs: clustering (Hungarian-matched accuracy, NMI, ARI), classification
(plain accuracy), adaptation, the probes on frozen features and the figures. `uvl.eval.<task>.evaluate` is
the evaluate stage of each task."""
