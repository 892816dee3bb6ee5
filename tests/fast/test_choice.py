"""Every core or one (chainrule.fast.choice): the decision from step times, on a made-up clock."""

import pytest

from chainrule.fast import choice
from chainrule.fast.choice import ThreadChoice


class Clock:
    """A clock that the test moves forward by each step's made-up duration."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run(chooser, clock, seconds, steps):
    """Start ``steps`` steps; each lasts ``seconds(setting)``. The settings they ran with."""
    settings = []
    for _ in range(steps):
        setting = chooser.step()
        settings.append(setting)
        clock.now += seconds(setting)
    return settings


def times(many, one):
    return lambda setting: many if setting else one


@pytest.fixture
def clock():
    return Clock()


def test_the_first_steps_run_on_every_core_then_a_trial_alternates(clock):
    chooser = ThreadChoice(clock)
    settings = run(chooser, clock, times(0.01, 0.02), choice.WARMUP_STEPS + 2 * choice.TRIAL_STEPS)
    assert settings[: choice.WARMUP_STEPS] == [True] * choice.WARMUP_STEPS
    assert settings[choice.WARMUP_STEPS :] == [True, False] * choice.TRIAL_STEPS
    assert chooser.trials == []  # the last step's time is known only when the next one starts
    assert chooser.step() is True
    assert chooser.trials == [(pytest.approx(0.01), pytest.approx(0.02), True)]


def trained(clock, many, one):
    chooser = ThreadChoice(clock)
    run(chooser, clock, times(many, one), choice.WARMUP_STEPS + 2 * choice.TRIAL_STEPS)
    return chooser, chooser.step()


def test_every_core_is_kept_where_it_is_faster(clock):
    chooser, setting = trained(clock, many=0.010, one=0.016)
    assert setting is True and chooser.many


def test_one_core_is_chosen_where_threads_are_slower(clock):
    chooser, setting = trained(clock, many=0.030, one=0.006)  # a busy machine
    assert setting is False and not chooser.many


def test_one_core_is_chosen_where_both_are_about_as_fast(clock):
    chooser, setting = trained(clock, many=0.0098, one=0.010)
    assert setting is False


def test_the_warmup_steps_and_an_odd_slow_step_do_not_decide(clock):
    chooser = ThreadChoice(clock)
    durations = iter([5.0] * choice.WARMUP_STEPS + [0.010, 0.020, 0.010, 0.020, 9.0, 0.020] * 2)
    run(chooser, clock, lambda setting: next(durations), choice.WARMUP_STEPS + 12)
    assert chooser.step() is True  # the 9 s step (a validation pass, say) is one of six
    assert chooser.trials == [(pytest.approx(0.010), pytest.approx(0.020), True)]


def test_the_trial_is_repeated_later_and_follows_the_load(clock):
    chooser, _ = trained(clock, many=0.010, one=0.016)
    trial_took = (0.010 + 0.016) * choice.TRIAL_STEPS
    wait = max(choice.TRIAL_EVERY * trial_took, choice.MIN_SECONDS_BETWEEN_TRIALS)
    steps_before = int(wait / 0.030) - 2
    settings = run(chooser, clock, times(0.030, 0.006), steps_before)  # the machine got busy
    assert set(settings) == {True} and len(chooser.trials) == 1  # not measured again yet
    settings = run(chooser, clock, times(0.030, 0.006), 2 * choice.TRIAL_STEPS + 6)
    assert settings[-3:] == [False] * 3 and chooser.step() is False
    assert [chosen for _, _, chosen in chooser.trials] == [True, False]


def test_a_trial_of_short_steps_runs_long_enough_not_to_follow_a_slow_spell(clock):
    """Steps of 0.1 ms, as fast either way: the trial lasts TRIAL_SECONDS of each setting, not
    six steps, so a spell of a few milliseconds in which every step takes three times as long
    is a small part of it, and one core is chosen, as for a tie."""
    chooser = ThreadChoice(clock)
    steps = []

    def seconds(setting):
        steps.append(setting)
        slow = choice.WARMUP_STEPS + 4 <= len(steps) < choice.WARMUP_STEPS + 24
        return 0.0003 if slow else 0.0001

    each = int(choice.TRIAL_SECONDS / 0.0001) + 10  # enough steps to reach TRIAL_SECONDS
    run(chooser, clock, seconds, choice.WARMUP_STEPS + 2 * choice.TRIAL_STEPS + 2)
    assert chooser.trials == []  # six steps of each are not enough: 0.6 ms is too short
    run(chooser, clock, seconds, 2 * each)
    assert len(chooser.trials) == 1
    many, one, kept = chooser.trials[0]
    assert many == pytest.approx(0.0001) and one == pytest.approx(0.0001) and not kept


def test_steps_in_two_parts_are_timed_by_blocks_that_hold_both(clock):
    """A loop written by hand whose step opens two tapes (a GAN's: a cheap part, then a dear one
    that threads slow down) calls step() twice a step. Alternating by calls, every core would
    time only the cheap parts and one core only the dear ones; blocks of two calls time whole
    steps with each setting."""
    parts = []

    def seconds(setting):
        parts.append(setting)
        if len(parts) % 2 == 0:  # the trial starts on a cheap part
            return 0.004
        return 0.040 if setting else 0.020

    calls = choice.WARMUP_STEPS + 2 * 2 * choice.TRIAL_STEPS
    by_calls = ThreadChoice(clock)
    run(by_calls, clock, seconds, calls)
    assert by_calls.trials[0][2] is True  # fooled: every core timed the cheap parts alone

    parts.clear()
    by_blocks = ThreadChoice(clock, block=2)
    settings = run(by_blocks, clock, seconds, calls)
    trial = settings[choice.WARMUP_STEPS :]
    assert trial == [True, True, False, False] * choice.TRIAL_STEPS  # a block per setting
    assert by_blocks.step() is False
    many, one, kept = by_blocks.trials[0]
    assert many == pytest.approx(0.022) and one == pytest.approx(0.012) and kept is False


def test_a_first_trial_waits_for_the_time_given(clock):
    chooser = ThreadChoice(clock, first_trial_after=1.0)
    settings = run(chooser, clock, times(0.030, 0.006), 30)  # 0.9 s: no trial yet
    assert set(settings) == {True} and chooser.trials == []
    run(chooser, clock, times(0.030, 0.006), 2 * choice.TRIAL_STEPS + 8)
    assert [chosen for _, _, chosen in chooser.trials] == [False]


def test_a_new_choice_starts_from_the_latest_one_of_the_process(clock):
    """evaluate after fit times no steps: it runs as fit's last trial chose."""
    assert ThreadChoice(clock).many is True  # before any trial: every core
    trained(clock, many=0.030, one=0.006)  # a busy machine: one core
    assert ThreadChoice(clock).step() is False
    trained(clock, many=0.010, one=0.016)
    assert ThreadChoice(clock).step() is True
