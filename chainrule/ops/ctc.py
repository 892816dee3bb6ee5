"""Connectionist temporal classification (Graves et al., 2006): the loss of a label sequence
under per-step class scores, summed over every alignment, and greedy decoding.

Notation: logits z (B, T, C), log-probabilities lp = log_softmax(z) over the classes; labels l
(B, L) of which the first L_b count, steps the first T_b of each sequence; ``blank`` the class
that emits nothing. A sequence's extended labels are l' = (blank, l_1, blank, l_2, ..., blank),
S = 2 L_b + 1 states. The forward variable alpha_t(s) is the log-probability of all alignments
of steps 0..t that end in state s; beta_t(s) that of all alignments of steps t..T_b - 1 that
start in state s (both include the emission at step t). A state is entered from itself, from
the state before, or, for a label different from the one two states back, from that state.

    loss = -log p(l | z),   log p = logsumexp(alpha_{T_b-1}(S-1), alpha_{T_b-1}(S-2))

Its gradient with respect to the logits is, at each valid step t and class k,

    dloss/dz_tk = softmax(z_t)_k - sum_{s: l'_s = k} exp(alpha_t(s) + beta_t(s) - lp_tk - log p)

(the posterior occupancy of the states that emit k), and 0 at steps beyond T_b.
"""

from ..backend import xp_of
from ..engine import primitive

__all__ = ["ctc_beam_search_decode", "ctc_greedy_decode", "ctc_loss", "ctc_loss_gradient"]


def _log_softmax(xp, z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def _emissions(xp, lp, ext):
    """lp_t(l'_s) for every step and state, (T, B, S)."""
    steps = lp.shape[1]
    index = xp.broadcast_to(ext[:, None, :], (ext.shape[0], steps, ext.shape[1]))
    return xp.take_along_axis(lp, index, axis=2).transpose(1, 0, 2)


def _lattice(logits, labels, label_lengths, logit_lengths, blank):
    """Everything the loss and its gradient read: lp (B, T, C), the extended labels (B, S),
    log alpha and log beta (T, B, S), and log p (B,)."""
    xp = xp_of(logits)
    work = xp.result_type(logits.dtype, xp.float32)
    lp = _log_softmax(xp, logits.astype(work))
    batch, steps, _ = lp.shape
    width = 2 * labels.shape[1] + 1
    ext = xp.full((batch, width), blank, dtype=labels.dtype)
    ext[:, 1::2] = labels
    states = xp.arange(width)
    valid = states[None, :] < 2 * label_lengths[:, None] + 1
    skip = xp.zeros((batch, width), dtype=bool)  # may state s be entered from s - 2?
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = _emissions(xp, lp, ext)
    lows = xp.array(-xp.inf, dtype=work)

    def step(prev, shift_from):
        """logsumexp of a state's own value and those it is reached from (one or two away)."""
        one, two = xp.full_like(prev, lows), xp.full_like(prev, lows)
        if shift_from == "before":
            one[:, 1:], two[:, 2:] = prev[:, :-1], xp.where(skip[:, 2:], prev[:, :-2], lows)
        else:
            one[:, :-1], two[:, :-2] = prev[:, 1:], xp.where(skip[:, 2:], prev[:, 2:], lows)
        return xp.logaddexp(xp.logaddexp(prev, one), two)

    alpha = xp.full((steps, batch, width), lows)
    start = xp.full((batch, width), lows)
    start[:, :2] = emit[0, :, :2]
    start[:, 1] = xp.where(label_lengths > 0, start[:, 1], lows)
    alpha[0] = start
    for t in range(1, steps):
        alpha[t] = xp.where(valid, step(alpha[t - 1], "before") + emit[t], lows)
    last = xp.clip(logit_lengths - 1, 0, steps - 1)
    final = alpha[last, xp.arange(batch)]  # (B, S) at each sequence's last step
    end = 2 * label_lengths
    log_p = xp.logaddexp(
        final[xp.arange(batch), end],
        xp.where(end > 0, final[xp.arange(batch), xp.maximum(end - 1, 0)], lows),
    )
    beta = xp.full((steps, batch, width), lows)
    ends = (states[None, :] == end[:, None]) | (states[None, :] == end[:, None] - 1)
    for t in range(steps - 1, -1, -1):
        later = step(beta[t + 1], "after") if t + 1 < steps else xp.full((batch, width), lows)
        here = xp.where((t == logit_lengths - 1)[:, None] & ends, emit[t], later + emit[t])
        beta[t] = xp.where(valid & (t < logit_lengths)[:, None], here, lows)
    return lp, ext, alpha, beta, log_p


@primitive
def ctc_loss(logits, labels, label_lengths, logit_lengths, blank=0):
    """Per-sequence CTC loss -log p(labels | logits) (see the module), shape (B,).

    Args:
        logits: (B, T, C) unnormalised class scores.  labels: (B, L) integer classes.
        label_lengths, logit_lengths: (B,) how many labels and steps of each sequence count.
        blank: the class that emits nothing.

    dL/dlogits = g[b] * (softmax(z_t) - the posterior occupancy of class k at step t) at valid
    steps (:func:`ctc_loss_gradient`); labels and lengths are not differentiable. A label
    sequence that no alignment fits (too many labels for the steps) has an infinite loss and a
    zero gradient.
    """
    *_, log_p = _lattice(logits, labels, label_lengths, logit_lengths, blank)
    return (-log_p).astype(xp_of(logits).result_type(logits.dtype, "float32"))


@ctc_loss.defvjp(0)
def _ctc_loss_vjp(g, y, logits, labels, label_lengths, logit_lengths, blank=0):
    grad = ctc_loss_gradient(logits, labels, label_lengths, logit_lengths, blank=blank)
    return g.reshape(-1, 1, 1) * grad


@primitive(differentiable=False)
def ctc_loss_gradient(logits, labels, label_lengths, logit_lengths, blank=0):
    """d ctc_loss / d logits, shape (B, T, C) (formula in the module); zero where the loss is
    infinite and at steps beyond each sequence's length. Has no gradient itself."""
    xp = xp_of(logits)
    lp, ext, alpha, beta, log_p = _lattice(logits, labels, label_lengths, logit_lengths, blank)
    steps, batch, width = alpha.shape
    emit = _emissions(xp, lp, ext)
    feasible = xp.isfinite(log_p)
    log_occ = alpha + beta - emit - xp.where(feasible, log_p, 0)[None, :, None]
    occupancy = xp.exp(log_occ)  # (T, B, S)
    grad = xp.exp(lp)
    for b in range(batch):  # scatter each state's occupancy onto the class it emits
        taken = xp.zeros((steps, lp.shape[2]), dtype=grad.dtype)
        xp.add.at(taken.T, ext[b], occupancy[:, b, :].T)
        grad[b] -= taken
    alive = (xp.arange(steps)[None, :] < logit_lengths[:, None]) & feasible[:, None]
    return (grad * alive[..., None]).astype(xp.result_type(logits.dtype, "float32"))


def ctc_greedy_decode(scores, lengths, merge_repeated=True, blank=0):
    """Best-path decoding on raw arrays (no gradient): the most likely class at each valid step,
    repeats merged (if ``merge_repeated``) and blanks dropped, packed to the front of each row.

    Args:
        scores: (B, T, C) per-step class scores.  lengths: (B,) valid steps of each sequence.

    Returns:
        decoded (B, T) int32, the classes followed by -1 padding; and (B, 1), minus the sum of
        each sequence's chosen scores.
    """
    xp = xp_of(scores)
    steps = scores.shape[1]
    best = scores.argmax(axis=-1)
    chosen = scores.max(axis=-1)
    beyond = xp.arange(steps)[None, :] >= lengths[:, None]
    best = xp.where(beyond, blank, best)
    chosen = xp.where(beyond, 0, chosen)
    if merge_repeated:
        repeat = xp.zeros_like(beyond)
        repeat[:, 1:] = best[:, 1:] == best[:, :-1]
        best = xp.where(repeat, blank, best)
    kept = best != blank
    order = xp.argsort(xp.where(kept, xp.arange(steps)[None, :], steps), axis=-1, kind="stable")
    decoded = xp.take_along_axis(xp.where(kept, best, -1), order, axis=-1).astype(xp.int32)
    return decoded, -chosen.sum(axis=1, keepdims=True)


def ctc_beam_search_decode(log_probs, lengths, beam_width=100, top_paths=1, blank=0):
    """Prefix beam search on raw arrays (no gradient): the ``top_paths`` most probable label
    sequences, each prefix's probability summed over all its alignments.

    Each prefix keeps two log-probabilities, of its alignments so far ending in a blank (p_b)
    and in its last label (p_n). A step with class log-probabilities lp moves them as

        blank:            prefix p_b <- logaddexp(p_b, p_n) + lp[blank]
        its last label c: prefix p_n <- p_n + lp[c]   and   prefix + c  p_n <- p_b + lp[c]
        another label c:  prefix + c  p_n <- logaddexp(p_b, p_n) + lp[c]

    and only the ``beam_width`` prefixes of highest total logaddexp(p_b, p_n) stay.

    Args:
        log_probs: (B, T, C) per-step class log-probabilities.  lengths: (B,) valid steps.

    Returns:
        paths (top_paths, B, T) int32, each a label sequence followed by -1 padding; and
        scores (B, top_paths), the log-probability of each.
    """
    xp = xp_of(log_probs)
    batch, steps, classes = log_probs.shape
    paths = xp.full((top_paths, batch, steps), -1, dtype=xp.int32)
    scores = xp.full((batch, top_paths), -xp.inf, dtype=log_probs.dtype)
    labels = [c for c in range(classes) if c != blank]
    for b in range(batch):
        beams = {(): (0.0, -xp.inf)}
        for t in range(int(lengths[b])):
            lp = [float(v) for v in log_probs[b, t]]
            grown = {}

            def add(prefix, blank_part, label_part):
                old_b, old_n = grown.get(prefix, (-xp.inf, -xp.inf))
                grown[prefix] = (xp.logaddexp(old_b, blank_part), xp.logaddexp(old_n, label_part))

            for prefix, (p_b, p_n) in beams.items():
                total = xp.logaddexp(p_b, p_n)
                add(prefix, total + lp[blank], -xp.inf)
                for c in labels:
                    if prefix and prefix[-1] == c:
                        add(prefix, -xp.inf, p_n + lp[c])
                        add(prefix + (c,), -xp.inf, p_b + lp[c])
                    else:
                        add(prefix + (c,), -xp.inf, total + lp[c])
            ranked = sorted(grown.items(), key=lambda item: -xp.logaddexp(*item[1]))
            beams = dict(ranked[:beam_width])
        ranked = sorted(beams.items(), key=lambda item: -xp.logaddexp(*item[1]))[:top_paths]
        for k, (prefix, parts) in enumerate(ranked):
            paths[k, b, : len(prefix)] = prefix
            scores[b, k] = xp.logaddexp(*parts)
    return paths, scores
