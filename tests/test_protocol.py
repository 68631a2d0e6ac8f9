"""The data protocol: what training sees of a dataset, and the seeded label draw."""

import numpy as np
import pytest

from uvl.data import protocol
from uvl.data.datasets import Dataset
from uvl.errors import UvlError
from uvl.params import LabelDraw

RNG = np.random.default_rng(0)
TRAIN_LABELS = np.repeat(np.arange(10), 60)  # 60 training images per class
DATASET = Dataset(name="toy", train_images=RNG.integers(0, 256, (600, 28, 28), dtype=np.uint8),
                  train_labels=TRAIN_LABELS, test_images=RNG.integers(0, 256, (100, 28, 28), dtype=np.uint8),
                  test_labels=np.repeat(np.arange(10), 10), digest="toy")
DRAW = dict(per_class=20, classes_left_out=[], noise_rate=0.0, noise_kind="symmetric", validation_per_class=10,
            seed=0)


def draw(**changes) -> protocol.LabelledSplit:
    return protocol.draw(DATASET, LabelDraw(**{**DRAW, **changes}))


def test_the_draw_is_per_class_exact_disjoint_and_from_the_training_split_only():
    split = draw()
    assert np.array_equal(np.bincount(split.labelled.labels), [20] * 10)
    assert np.array_equal(np.bincount(split.validation.labels), [10] * 10)
    rows = [split.labelled.indices, split.validation.indices, split.unlabelled.indices]
    assert sum(map(len, rows)) == 600 and len(np.unique(np.concatenate(rows))) == 600  # a partition of the train split
    assert all(row.max() < DATASET.n_train for row in rows)  # no test image reaches training
    assert split.unlabelled.labels is None
    assert np.array_equal(split.labelled.images, DATASET.train_images[split.labelled.indices])
    assert np.array_equal(split.labelled.labels, TRAIN_LABELS[split.labelled.indices])


def test_the_draw_is_seeded_and_its_digest_changes_with_its_params():
    assert draw().digest == draw().digest and np.array_equal(draw().labelled.indices, draw().labelled.indices)
    digests = {draw().digest, draw(seed=1).digest, draw(per_class=10).digest, draw(validation_per_class=5).digest,
               draw(noise_rate=0.3).digest, draw(classes_left_out=[3]).digest}
    assert len(digests) == 6


def test_all_labels_leave_only_the_validation_slice_out():
    split = draw(per_class=None)
    assert len(split.labelled) == 500 and len(split.validation) == 100 and len(split.unlabelled) == 0


def test_classes_left_out_have_no_labelled_image():
    split = draw(classes_left_out=[3, 7])
    assert not np.isin(split.labelled.labels, [3, 7]).any()
    assert (TRAIN_LABELS[split.unlabelled.indices] == 3).sum() == 50  # all but the validation slice's 10


@pytest.mark.parametrize("kind", ["symmetric", "pair"])
def test_label_noise_flips_the_rate_asked_to_another_class(kind):
    split = draw(per_class=40, noise_rate=0.3, noise_kind=kind)
    labelled = np.concatenate([split.labelled.indices, split.validation.indices])
    given = np.concatenate([split.labelled.labels, split.validation.labels])
    wrong = given != TRAIN_LABELS[labelled]
    assert 0.25 < wrong.mean() < 0.35
    if kind == "pair":
        assert np.array_equal(given[wrong], (TRAIN_LABELS[labelled][wrong] + 1) % 10)
    else:
        assert len(np.unique(given[wrong] - TRAIN_LABELS[labelled][wrong])) > 5  # spread over the other classes


def test_asymmetric_noise_flips_the_mapped_digits_at_the_rate_asked_and_no_other():
    split = draw(per_class=40, noise_rate=0.4, noise_kind="asymmetric")
    labelled = np.concatenate([split.labelled.indices, split.validation.indices])
    truth, given = TRAIN_LABELS[labelled], np.concatenate([split.labelled.labels, split.validation.labels])
    wrong = given != truth
    assert set(zip(truth[wrong].tolist(), given[wrong].tolist())) == {(2, 7), (3, 8), (5, 6), (6, 5), (7, 1)}
    mapped = np.isin(truth, [2, 3, 5, 6, 7])
    assert 0.33 < wrong[mapped].mean() < 0.47 and not wrong[~mapped].any()


def test_asymmetric_noise_needs_the_digits():
    letters = Dataset(name="letters", train_images=DATASET.train_images, train_labels=TRAIN_LABELS + 1,
                      test_images=DATASET.test_images, test_labels=DATASET.test_labels + 1, digest="letters")
    with pytest.raises(UvlError, match=r"labels.noise_kind: asymmetric noise maps the digits 0-9 .* letters's classes"):
        protocol.draw(letters, LabelDraw(**{**DRAW, "noise_rate": 0.4, "noise_kind": "asymmetric"}))


def test_asking_for_more_images_than_a_class_has_is_a_clear_error():
    with pytest.raises(UvlError, match=r"labels: class 0 of toy's training split has 60 images, fewer than .* \(70\)"):
        draw(per_class=60)
    with pytest.raises(UvlError, match=r"labels.classes_left_out: \[12\] not among toy's classes"):
        draw(classes_left_out=[12])


def test_the_clustering_view_holds_both_splits_without_labels():
    view = protocol.clustering(DATASET)
    assert len(view) == 700 and view.labels is None
    assert np.array_equal(view.images[600:], DATASET.test_images)
