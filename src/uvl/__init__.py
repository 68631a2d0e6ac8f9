"""uvl: unsupervised visual learning, one reproducible DVC pipeline from raw MNIST to a comparison table."""

from pathlib import Path as _Path

# A queued DVC experiment runs its stages in a copy of the project (.dvc/tmp/exps/<run>/), but the editable
# install puts the main checkout's src/ on sys.path: without this, the copy's stages would import the main
# checkout's code as it is when each stage starts, not the code the experiment was queued with. So when
# the working directory is another checkout of uvl, its modules are the ones imported.
_checkout = _Path.cwd() / "src" / "uvl"
if (_checkout / "__init__.py").is_file() and _checkout.resolve() != _Path(__file__).resolve().parent:
    __path__ = [str(_checkout.resolve())]
