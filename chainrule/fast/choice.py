"""Every core or one: the choice a training call makes by timing its own steps.

On an idle machine the BLAS library's threads (and chainrule's, :mod:`.threads`) make a step
faster. On a machine whose cores other processes keep busy they can make it several times slower:
a threaded product waits for its slowest thread, which the system has handed to another process,
while the threads that finished early spin on the cores that process wants. Which of the two
holds depends on the machine, the model and the load of the moment, so the training call measures
it: :class:`ThreadChoice` alternates the two settings over a few steps, keeps the faster, and
measures again every so often, since the load changes.

Only the setting depends on the timings, never the parts a batch is cut into, so that a
convolution's results are the same, bit for bit, either way. A product's may not be: OpenBLAS
sums a long inner dimension in another order on several threads than on one (the last bit of a
784-long dot product, say), so a dense network's seeded run is then reproducible to rounding.
"""

import statistics
import time

#: Steps that are not timed at the start: the first batch of a shape is traced, the second checked
#: against the engine (see :mod:`.train_step`), and the third runs the first replay.
WARMUP_STEPS = 3
#: Steps timed with each setting in one trial, the two settings alternating step by step, so that
#: a change of load during the trial weighs on both alike.
TRIAL_STEPS = 6
#: ...and at least this many seconds of steps with each, so that a trial of short steps (the
#: article's take 0.07 ms) is not decided by one slow spell of the machine: six steps of each
#: lasted 1.2 ms, and a spell of a few milliseconds slowed every one of one setting's steps.
TRIAL_SECONDS = 0.02
#: Every core is kept only if its median step takes at most this fraction of one core's: where
#: the two are about as fast, one thread leaves the other cores to the machine's other work.
KEEP_MANY_BELOW = 0.95
#: A new trial once training has run this many times as long as the last trial took, so that
#: trials, the slower setting's steps included, cost at most a few percent of the time.
TRIAL_EVERY = 30
#: ...and at least this long (seconds), so that a fast network is not measured all the time.
MIN_SECONDS_BETWEEN_TRIALS = 2.0


#: The setting the process's latest trial chose (None before any). A new ThreadChoice starts
#: from it: ``evaluate`` or ``predict`` called after ``fit`` (they time no steps of their own)
#: then runs as ``fit`` last found best, and a later ``fit`` starts there until its own trial.
_latest = None


class ThreadChoice:
    """Chooses, from step times, whether training runs on every core or on one.

    Call :meth:`step` at the start of every training step; it returns the setting that step is to
    run with (True: every core). The time from one call to the next is the step's time with the
    setting the previous call returned: the forward and backward pass, the optimizer's update,
    the metrics and callbacks, everything the load slows down.

    A step of a loop written by hand may come in parts that each call :meth:`step` (a GAN's
    two tapes, say), which would give one setting every first part and the other every second.
    With ``block`` > 1 the settings alternate by blocks of that many calls instead, each timed
    as a whole, so that every block holds as many parts of each kind (for up to ``block`` parts
    that divide it).

    Args:
        clock: seconds, as ``time.perf_counter`` (which tests replace).
        block: the calls that run with one setting in a row during a trial, timed as one.
        first_trial_after: seconds from now before the first trial may start (besides the
            WARMUP_STEPS): a short loop keeps the setting it found.
    """

    def __init__(self, clock=time.perf_counter, block=1, first_trial_after=None):
        self._clock = clock
        self._block = block
        self._in_block = 0  # calls of the current block so far, during a trial
        self._block_started = None  # the clock at the current block's start
        self._steps = 0  # steps started so far
        self._running = True  # the setting the previous step ran with
        self._times = None  # {setting: [seconds]} during a trial, else None
        self._trial_started = None
        # the clock from which the next trial may start
        self._next_trial = (
            float("-inf") if first_trial_after is None else clock() + first_trial_after
        )
        # the setting chosen by the last trial (before any, the process's latest choice, or
        # every core)
        self.many = True if _latest is None else _latest
        self.trials = []  # (median with every core, median with one, chosen) of each trial

    def step(self):
        """Account for the step that just ended; returns the setting for the one starting now."""
        now = self._clock()
        if self._times is not None:
            self._in_block += 1
            if self._in_block == self._block:
                self._times[self._running].append((now - self._block_started) / self._block)
                self._in_block, self._block_started = 0, now
            timed = self._times.values()
            seconds = min(map(sum, timed)) * self._block
            if min(map(len, timed)) >= TRIAL_STEPS and seconds >= TRIAL_SECONDS:
                self._decide(now)
        if self._times is None and self._steps >= WARMUP_STEPS and now >= self._next_trial:
            self._times = {True: [], False: []}
            self._trial_started = self._block_started = now
            self._in_block = 0
        self._steps += 1
        self._running = self._setting()
        return self._running

    def _setting(self):
        if self._times is None:
            return self.many
        return len(self._times[True]) <= len(self._times[False])  # alternate, every core first

    def _decide(self, now):
        global _latest
        many, one = (statistics.median(self._times[setting]) for setting in (True, False))
        self.many = _latest = many <= KEEP_MANY_BELOW * one
        self.trials.append((many, one, self.many))
        self._times = None
        took = now - self._trial_started
        self._next_trial = now + max(TRIAL_EVERY * took, MIN_SECONDS_BETWEEN_TRIALS)
