"""Each fault drill of bench/drills.py as a test: real `dvc` runs on quick-profile copies of the project."""

import signal

import pytest

import drills as reliability

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("drills")


@pytest.fixture(scope="module")
def expected(workdir):
    return reliability.reference(workdir)


def check(outcome):
    assert outcome.ok, outcome


def test_determinism(workdir, expected):
    check(reliability.drill_determinism(workdir, expected))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_interrupted_training_resumes_to_the_same_metrics(workdir, expected, sig):
    check(reliability.drill_signal(workdir, expected, sig))


def test_nan_loss_stops_without_a_result(workdir):
    check(reliability.drill_nan(workdir))


def test_corrupted_data_is_a_clear_error(workdir):
    check(reliability.drill_corrupt_data(workdir))


def test_truncated_checkpoint_is_a_clear_error(workdir):
    check(reliability.drill_truncated_checkpoint(workdir))


def test_unwritable_tracking_never_fails_training(workdir, expected):
    check(reliability.drill_unwritable_tracking(workdir, expected))


def test_two_queued_experiments_run_at_once_without_sharing_anything(workdir):
    check(reliability.drill_parallel_queue(workdir))
