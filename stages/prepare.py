"""prepare: verified MNIST (data/prepared/mnist.npz) and the 8x8 digits in MNIST's frame (digits.npz)."""

from uvl import params as uvl_params
from uvl.cli import PREPARED, run_stage
from uvl.data import digits, mnist


def main() -> None:
    params = uvl_params.load()
    mnist.prepare(params.data.source, PREPARED / "mnist.npz", raw_dir=PREPARED.parent / "raw")
    digits.prepare(PREPARED / "digits.npz")


if __name__ == "__main__":
    run_stage(main)
