"""Adafactor, Ftrl, Lamb, Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer and
schedules.CosineDecayRestarts against real Keras 3's values (recorded with Keras 3.15.1 on JAX,
or on its NumPy backend where Keras's JAX backend cannot apply an optimizer eagerly), closed
forms, their configs, the order Keras stores their state in, and training through fit."""

import h5py
import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.fast import fused, updates
from chainrule.keras import optimizers
from chainrule.keras.optimizers import schedules

# ----- several steps against Keras ------------------------------------------------------------

SHAPES = {"kernel": (3, 4), "bias": (4,), "tall": (4, 3), "cube": (2, 3, 2)}


def make(o, s):
    """The optimizers of KERAS_TRAJECTORIES, from a module ``o`` of optimizers and ``s`` of
    schedules (chainrule's or Keras's)."""
    return {
        "ftrl": lambda: o.Ftrl(),
        "ftrl_regularized": lambda: o.Ftrl(
            learning_rate=0.1,
            learning_rate_power=-0.7,
            l1_regularization_strength=0.01,
            l2_regularization_strength=0.02,
            l2_shrinkage_regularization_strength=0.03,
            beta=0.1,
        ),
        "lamb": lambda: o.Lamb(0.01),
        "lamb_decay": lambda: o.Lamb(0.01, beta_1=0.8, weight_decay=0.1),
        "adafactor": lambda: o.Adafactor(0.1),
        "adafactor_absolute": lambda: o.Adafactor(
            0.01, relative_step=False, clip_threshold=0.5, beta_2_decay=-0.5
        ),
        "adafactor_schedule": lambda: o.Adafactor(s.ExponentialDecay(0.5, 2, 0.5)),
        "muon": lambda: o.Muon(0.01),
        "muon_options": lambda: o.Muon(
            0.02,
            nesterov=False,
            rms_rate=None,
            exclude_layers=["tall"],
            momentum=0.9,
            weight_decay=0.1,
            adam_weight_decay=0.01,
            adam_lr_ratio=0.5,
            ns_steps=3,
        ),
        "muon_adam_decay_only": lambda: o.Muon(0.01, weight_decay=None, adam_weight_decay=0.05),
        "muon_excluded_decay": lambda: excluded(
            o.Muon(0.01, weight_decay=0.1, adam_weight_decay=0.05)
        ),
        "schedule_free_adamw": lambda: o.ScheduleFreeAdamW(),
        "schedule_free_adamw_warmup": lambda: o.ScheduleFreeAdamW(
            0.01, beta_1=0.8, warmup_steps=2, weight_decay=0.01
        ),
    }


def excluded(optimizer):
    """``optimizer``, with the variables named kernel or bias exempt from weight decay."""
    optimizer.exclude_from_weight_decay(var_names=["kernel", "bias"])
    return optimizer


def start():
    """The variables' starting values and four steps of gradients (float32)."""
    r = np.random.RandomState(0)
    init = {n: r.randn(*s).astype("float32") for n, s in SHAPES.items()}
    grads = [[r.randn(*s).astype("float32") for s in SHAPES.values()] for _ in range(4)]
    return init, grads


# The variables after four steps, from Keras 3.15.1 (KERAS_BACKEND=jax), rounded to 8 places:
#     import keras; O = keras.optimizers
#     for key, build in make(O, O.schedules).items():
#         init, grads = start()
#         vs = [keras.Variable(a, name=n) for n, a in init.items()]
#         opt = build()
#         for g in grads:
#             opt.apply(g, vs)
#         print(key, [np.asarray(v.value).astype(float).round(8).tolist() for v in vs])
KERAS_TRAJECTORIES = {
    "ftrl": [
        [
            [1.25644755, 0.31347772, 0.80048114, 1.88144433],
            [0.88381368, -0.40574819, 0.71858478, -0.09535204],
            [-0.08266562, 0.06893788, 0.0974286, 0.53164995],
        ],
        [0.36101964, 0.0909, 0.00268695, 0.13275687],
        [
            [0.03165685, -0.05810146, 0.17411108],
            [-0.29188132, -1.46585751, 0.22403379],
            [0.55315322, -0.60751259, 0.28963426],
            [-0.55489445, 0.0392335, -0.08240652],
        ],
        [
            [[1.02916408, 0.01788587], [0.09202489, 0.02568846], [-0.65026248, -1.48848295]],
            [[-0.1337419, 0.09162958], [0.8095184, 0.62733805], [-0.11153141, -0.00614896]],
        ],
    ],
    "ftrl_regularized": [
        [
            [1.45695508, 0.36148274, 0.84819704, 1.91212702],
            [0.96810365, -0.40798166, 0.83546019, -0.18876041],
            [-0.02867473, -0.01676065, 0.22347398, 0.30944479],
        ],
        [0.41702458, 0.15457168, 0.06726052, -0.12009861],
        [
            [-0.03750024, -0.16098954, 0.24179356],
            [-0.191074, -1.43973327, 0.38970223],
            [0.74359715, -0.57511014, 0.19006564],
            [-0.5210408, 0.20196502, -0.15364204],
        ],
        [
            [[1.15056753, -0.12821686], [-0.01879122, -0.17557466], [-0.67807388, -1.49087393]],
            [[-0.20458928, 0.16928186], [0.78922671, 0.76538944], [-0.09471074, -0.12238771]],
        ],
    ],
    "lamb": [
        [
            [1.82449806, 0.42111725, 1.00114882, 2.2123661],
            [1.87625813, -0.99852401, 0.97496378, -0.19094166],
            [-0.06135667, 0.37939501, 0.20040728, 1.38382411],
        ],
        [0.77332419, 0.12881869, 0.45053774, 0.30574986],
        [
            [1.45371425, -0.25352132, 0.34323883],
            [-0.81945038, -2.54341173, 0.71185184],
            [0.93166065, -0.71561319, 2.24997926],
            [-1.47244954, 0.11862519, -0.21161881],
        ],
        [
            [[1.54316151, 1.42239571], [0.10859524, 0.3158865], [-0.88967985, -1.96824491]],
            [[-0.37007976, 0.17641096], [1.21475768, 1.25310493], [-0.38229886, -0.34664157]],
        ],
    ],
    "lamb_decay": [
        [
            [1.81464136, 0.41607812, 0.99192476, 2.20521498],
            [1.87008595, -0.9960441, 0.97026998, -0.18847869],
            [-0.066274, 0.37590706, 0.1965006, 1.37826169],
        ],
        [0.7691614, 0.12744544, 0.44935188, 0.3050091],
        [
            [1.44952226, -0.24980186, 0.33843979],
            [-0.81633419, -2.53259206, 0.7084828],
            [0.92544967, -0.71468729, 2.23915648],
            [-1.46606231, 0.11602284, -0.21082108],
        ],
        [
            [[1.53715789, 1.41755247], [0.11222021, 0.31512934], [-0.88304013, -1.96079254]],
            [[-0.36652598, 0.17443717], [1.20715976, 1.24490154], [-0.38201094, -0.34456548]],
        ],
    ],
    "adafactor": [
        [
            [1.95793736, 0.38971788, 0.89396244, 2.11713338],
            [2.00564551, -1.15482008, 1.15213895, -0.26236445],
            [-0.04838207, 0.21369338, 0.27598727, 1.15588498],
        ],
        [0.78177726, 0.15832007, 0.54738933, 0.1405154],
        [
            [1.50370383, -0.29156077, 0.6007303],
            [-0.61493164, -2.40766239, 1.10095],
            [1.17322838, -0.58525527, 2.07362914],
            [-1.51317537, 0.39229697, -0.32372406],
        ],
        [
            [[1.71596265, 1.26647258], [0.01898449, 0.09850101], [-0.85096973, -1.80821693]],
            [[-0.45504725, 0.33936754], [1.01515794, 1.3258816], [-0.35580483, -0.53601635]],
        ],
    ],
    "adafactor_absolute": [
        [
            [1.77336884, 0.40188172, 0.97315216, 2.23365021],
            [1.8757515, -0.98460567, 0.96093035, -0.15838045],
            [-0.10235902, 0.4002693, 0.15354387, 1.43848801],
        ],
        [0.76223224, 0.12376843, 0.44895837, 0.32405093],
        [
            [1.49430919, -0.20916028, 0.32767001],
            [-0.84210372, -2.54534817, 0.67601109],
            [0.87996924, -0.73493624, 2.26141405],
            [-1.4577347, 0.06381575, -0.19364615],
        ],
        [
            [[1.54306591, 1.45946217], [0.14887029, 0.36453676], [-0.88556236, -1.97109413]],
            [[-0.35371825, 0.16647649], [1.2195704, 1.20831895], [-0.38468307, -0.31315628]],
        ],
    ],
    "adafactor_schedule": [
        [
            [2.56576872, 0.73756456, 1.01207149, 1.75577557],
            [2.14539051, -1.46212363, 1.61504614, -0.79544657],
            [0.77443814, -0.19282982, 0.91873288, 0.36224049],
        ],
        [0.90599298, 0.23231733, 0.68408006, -0.37134922],
        [
            [1.29747796, -0.78964263, 1.66127014],
            [0.10445781, -2.05489016, 2.23164415],
            [2.07085729, -0.28558338, 1.75955856],
            [-1.84664738, 1.23783827, -0.7123729],
        ],
        [
            [[2.11825466, 0.83738172], [-0.7841562, -0.54758155], [-0.91085672, -1.48806894]],
            [[-0.67227721, 0.76272017], [0.78501368, 1.84736156], [0.00297526, -1.09706414]],
        ],
    ],
    "muon": [
        [
            [1.77115798, 0.40246204, 0.97722465, 2.23806596],
            [1.86610186, -0.98423886, 0.9538011, -0.15332259],
            [-0.0978373, 0.40540782, 0.15004733, 1.44892716],
        ],
        [0.78069359, 0.13467917, 0.45600671, 0.29387367],
        [
            [1.49274719, -0.21010436, 0.31575269],
            [-0.84988004, -2.55023932, 0.66182649],
            [0.87356162, -0.73897952, 2.26783967],
            [-1.46208131, 0.05708745, -0.18806873],
        ],
        [
            [[1.54177105, 1.44141185], [0.12685589, 0.34331241], [-0.8940478, -1.97007215]],
            [[-0.36325651, 0.17041029], [1.22844136, 1.23204339], [-0.38002855, -0.32880002]],
        ],
    ],
    "muon_options": [
        [
            [1.78426731, 0.42260402, 0.97799706, 2.20372534],
            [1.84157193, -1.00816453, 0.97129112, -0.16074133],
            [-0.0723823, 0.38521436, 0.16082457, 1.41377366],
        ],
        [0.78019971, 0.13459636, 0.45571968, 0.29366973],
        [
            [1.46940815, -0.23155907, 0.3309646],
            [-0.83477426, -2.5433085, 0.68341357],
            [0.89796579, -0.72565806, 2.25662541],
            [-1.45715439, 0.08182171, -0.2011364],
        ],
        [
            [[1.54078662, 1.44047964], [0.12676568, 0.34307933], [-0.89347506, -1.96880889]],
            [[-0.36302868, 0.17030551], [1.22765064, 1.23126531], [-0.37978503, -0.32859886]],
        ],
    ],
    "muon_adam_decay_only": [
        [
            [1.77144051, 0.40252632, 0.97738129, 2.23842454],
            [1.86640048, -0.98439556, 0.95395344, -0.15334687],
            [-0.09785312, 0.40547329, 0.15007067, 1.44915962],
        ],
        [0.77927446, 0.13444121, 0.45518187, 0.29328758],
        [
            [1.49298596, -0.21013746, 0.31580305],
            [-0.85001653, -2.5506475, 0.66193157],
            [0.8737005, -0.73909807, 2.26820302],
            [-1.46231449, 0.05709541, -0.18809868],
        ],
        [
            [[1.53894246, 1.43873298], [0.12659667, 0.34264255], [-0.89240211, -1.96644199]],
            [[-0.36260182, 0.17010911], [1.22616875, 1.22980738], [-0.37932876, -0.32822198]],
        ],
    ],
    "muon_excluded_decay": [
        [
            [1.77144051, 0.40252632, 0.97738129, 2.23842454],
            [1.86640048, -0.98439556, 0.95395344, -0.15334687],
            [-0.09785312, 0.40547329, 0.15007067, 1.44915962],
        ],
        [0.78081709, 0.13469987, 0.4560785, 0.29392466],
        [
            [1.48702371, -0.20931147, 0.3145453],
            [-0.84660989, -2.54045272, 0.65930909],
            [0.87023276, -0.73613763, 2.25913501],
            [-1.45649171, 0.05689677, -0.18735056],
        ],
        [
            [[1.53894246, 1.43873298], [0.12659667, 0.34264255], [-0.89240211, -1.96644199]],
            [[-0.36260182, 0.17010911], [1.22616875, 1.22980738], [-0.37932876, -0.32822198]],
        ],
    ],
    "schedule_free_adamw": [
        [
            [1.76851273, 0.40136719, 0.97935981, 2.23891568],
            [1.86937118, -0.97790974, 0.95209306, -0.15443657],
            [-0.10079997, 0.40913793, 0.14817335, 1.44787538],
        ],
        [0.76320708, 0.12301453, 0.44703484, 0.32644886],
        [
            [1.49010396, -0.20951219, 0.31462306],
            [-0.85151988, -2.55141759, 0.65916276],
            [0.86961675, -0.74054766, 2.26746035],
            [-1.45461464, 0.05088127, -0.18928505],
        ],
        [
            [[1.5345155, 1.46368408], [0.15085682, 0.37062937], [-0.88749254, -1.97907746]],
            [[-0.34959978, 0.15825438], [1.22853637, 1.20676959], [-0.38660973, -0.30780739]],
        ],
    ],
    "schedule_free_adamw_warmup": [
        [
            [1.77713084, 0.39918244, 0.9751389, 2.2374115],
            [1.87041628, -0.98553187, 0.95367122, -0.15845357],
            [-0.09936982, 0.39864343, 0.15532836, 1.43245757],
        ],
        [0.76408529, 0.12235817, 0.45311028, 0.30806673],
        [
            [1.48325551, -0.21726018, 0.31449288],
            [-0.84817296, -2.55092311, 0.67180395],
            [0.88081563, -0.7399267, 2.26446962],
            [-1.45997763, 0.06249143, -0.19099522],
        ],
        [
            [[1.53505695, 1.45028806], [0.14407639, 0.35165775], [-0.88082957, -1.97797227]],
            [[-0.35033289, 0.15934376], [1.21664155, 1.2147727], [-0.39024839, -0.32044724]],
        ],
    ],
}


@pytest.mark.parametrize("key", sorted(KERAS_TRAJECTORIES))
def test_four_steps_equal_keras(key):
    init, grads = start()
    variables = [cr.Variable(a, name=n) for n, a in init.items()]
    optimizer = make(optimizers, schedules)[key]()
    for g in grads:
        optimizer.apply(g, variables)
    for v, expected in zip(variables, KERAS_TRAJECTORIES[key]):
        assert v.data.dtype == np.float32
        np.testing.assert_allclose(v.data, expected, rtol=1e-6, atol=1e-6)


# ----- closed forms ---------------------------------------------------------------------------


def test_lamb_first_step_is_adam_direction_scaled_to_the_weights_norm():
    # t = 1: m̂ = g and v̂ = g², so u = g / (|g| + ε) and w <- w - η (||w|| / ||u||) u
    w0 = np.array([3.0, -4.0, 0.0])
    g = np.array([0.5, 2.0, -1.0])
    w = cr.Variable(w0.copy())
    optimizers.Lamb(learning_rate=0.1, epsilon=1e-7).apply([g], [w])
    u = g / (np.abs(g) + 1e-7)
    eta = float(np.float32(0.1))  # as Keras 3: the rate is a float32 variable
    np.testing.assert_allclose(w.data, w0 - eta * 5.0 / np.linalg.norm(u) * u, rtol=1e-12)


def test_lamb_trust_ratio_is_one_for_zero_weights():
    w = cr.Variable(np.zeros(3))
    optimizers.Lamb(learning_rate=0.1, epsilon=0.0).apply([np.array([1.0, -2.0, 3.0])], [w])
    eta = float(np.float32(0.1))  # as Keras 3: the rate is a float32 variable
    np.testing.assert_allclose(w.data, [-eta, eta, -eta], rtol=1e-12)


def test_ftrl_first_step_by_hand():
    # n' = n + g²;  z = g - (sqrt(n') - sqrt(n)) / η w;
    # w = (clip(z, ±λ1) - z) / (sqrt(n') / η + 2 λ2)
    w0, g, n, l1, l2 = 0.5, 0.3, 0.1, 0.01, 0.05
    eta = float(np.float32(0.2))  # as Keras 3: the rate is a float32 variable
    w = cr.Variable(np.array([w0]))
    opt = optimizers.Ftrl(eta, l1_regularization_strength=l1, l2_regularization_strength=l2)
    opt.apply([np.array([g])], [w])
    n1 = n + g * g
    z = g - (np.sqrt(n1) - np.sqrt(n)) / eta * w0
    expected = (np.clip(z, -l1, l1) - z) / (np.sqrt(n1) / eta + 2 * l2)
    np.testing.assert_allclose(w.data, [expected], rtol=1e-12)
    np.testing.assert_allclose(opt.slot(w, "linear"), [z], rtol=1e-12)


def test_ftrl_l1_makes_weights_exactly_zero():
    w = cr.Variable(np.array([0.0, 0.0]))
    opt = optimizers.Ftrl(0.1, l1_regularization_strength=1.0)
    opt.apply([np.array([0.5, -3.0])], [w])  # |z| = 0.5 <= λ1: 0; |z| = 3 > λ1: not 0
    assert w.data[0] == 0.0 and w.data[1] != 0.0


def test_schedule_free_adamw_keeps_z_from_the_initial_weights():
    # one step from y = z = w0: z' = w0 - η g / (|g| + ε) and y = (1 - β1) z' + β1 x' with
    # x' = z' (t = 1), so y = z'
    w0 = np.array([1.0, -2.0])
    g = np.array([0.5, -0.25])
    w = cr.Variable(w0.copy())
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.1, epsilon=0.0)
    opt.apply([g], [w])
    expected = w0 - float(np.float32(0.1)) * np.sign(g)  # as Keras 3: a float32 rate
    np.testing.assert_allclose(w.data, expected, rtol=1e-12)
    np.testing.assert_allclose(opt.slot(w, "momentum"), expected, rtol=1e-12)


def test_muon_orthogonalize_keeps_the_singular_vectors_and_flattens_the_values():
    # each Newton-Schulz step is an odd polynomial of X, so NS(G) = U p(Σ) Vᵀ for G = U Σ Vᵀ;
    # the quintic's coefficients push p(σ) into about [0.7, 1.2] for every σ not tiny
    for shape in [(6, 4), (4, 6)]:
        g = np.random.RandomState(3).randn(*shape) * 10
        u, _, vt = np.linalg.svd(g, full_matrices=False)
        core = u.T @ optimizers.Muon().orthogonalize(g) @ vt.T
        np.testing.assert_allclose(core - np.diag(np.diag(core)), 0, atol=1e-9)
        assert np.diag(core).min() > 0.6 and np.diag(core).max() < 1.25
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        optimizers.Muon().orthogonalize(np.ones(3))


def test_muon_takes_adam_for_embeddings_vectors_and_excluded_layers():
    variables = [
        cr.Variable(np.zeros((2, 2)), name="dense_kernel"),
        cr.Variable(np.zeros((2, 2)), name="embedding_table"),
        cr.Variable(np.zeros(2), name="bias"),
        cr.Variable(np.zeros((2, 2)), name="head_kernel"),
        cr.Variable(np.zeros((2, 2, 2)), name="conv_kernel"),
    ]
    opt = optimizers.Muon(exclude_layers=["head"])
    opt.build(variables)
    assert [opt._uses_adam(v) for v in variables] == [False, True, True, True, True]
    assert [id(v) in opt._slots["velocity"] for v in variables] == [False, True, True, True, True]


def test_adafactor_state_is_factored_over_the_last_two_axes():
    variables = [cr.Variable(np.ones((2, 3, 4), np.float32)), cr.Variable(np.ones(5, np.float32))]
    opt = optimizers.Adafactor()
    opt.build(variables)
    r, c = opt._slots["r"], opt._slots["c"]
    assert r[id(variables[0])].shape == (2, 3) and c[id(variables[0])].shape == (2, 4)
    assert r[id(variables[1])].shape == () and r[id(variables[1])].dtype == np.int32


@pytest.mark.parametrize("name", ["Lamb", "Adafactor", "Muon"])
def test_whole_variable_optimizers_ignore_the_block_loop(monkeypatch, name):
    # the norm, mean or matrix product of a block is not the whole variable's
    shape = (2 * updates.BLOCK // 64 + 1, 64)
    r = np.random.RandomState(0)
    w0, g = r.randn(*shape).astype("float32"), r.randn(*shape).astype("float32")
    results = []
    monkeypatch.setattr(fused, "compiled", lambda: None)  # fit's loop without Numba: blocks
    for loop in (None, updates.update):
        w = cr.Variable(w0.copy(), name="kernel")
        opt = getattr(optimizers, name)(learning_rate=0.01)
        opt.update_loop = loop
        opt.apply([g], [w])
        results.append(w.data)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("name", ["Ftrl", "ScheduleFreeAdamW"])
def test_elementwise_optimizers_give_the_same_result_in_blocks(monkeypatch, name):
    shape = (2 * updates.BLOCK + 7,)
    r = np.random.RandomState(1)
    w0 = r.randn(*shape).astype("float32")
    grads = [r.randn(*shape).astype("float32") for _ in range(2)]
    results = []
    monkeypatch.setattr(fused, "compiled", lambda: None)  # fit's loop without Numba: blocks
    for loop in (None, updates.update):
        w = cr.Variable(w0.copy())
        opt = getattr(optimizers, name)(learning_rate=0.01)
        opt.update_loop = loop
        for g in grads:
            opt.apply([g], [w])
        results.append(w.data)
    np.testing.assert_array_equal(results[0], results[1])


# ----- CosineDecayRestarts --------------------------------------------------------------------


def test_cosine_decay_restarts_equals_keras():
    # Keras 3.15.1 (jax), rounded to 7 places:
    #     s = keras.optimizers.schedules.CosineDecayRestarts(0.1, 10, **args)
    #     [round(float(s(i)), 7) for i in range(0, 80, 3)]
    expected = {
        (2.0, 1.0, 0.0): [
            0.1, 0.0793893, 0.0345491, 0.0024472, 0.0975528, 0.0853553, 0.0654509, 0.0421783,
            0.0206107, 0.0054497, 0.1, 0.0986185, 0.0945503, 0.0880203, 0.0793893, 0.0691342,
            0.0578217, 0.0460771, 0.0345491, 0.0238751, 0.0146447, 0.007368, 0.0024472,
            0.0001541, 0.0998459, 0.0990393, 0.0975528,
        ],
        (1.0, 0.5, 0.1): [
            0.1, 0.0814503, 0.0410942, 0.0122025, 0.0507029, 0.0325, 0.0142971, 0.0319494,
            0.0247264, 0.0146374, 0.02125, 0.0189313, 0.0138868, 0.0102753, 0.0150879, 0.0128125,
            0.0105371, 0.0127437, 0.0118408, 0.0105797, 0.0114063, 0.0111164, 0.0104858,
            0.0100344, 0.010636, 0.0103516, 0.0100671,
        ],
        (1.5, 0.9, 0.05): [
            0.1, 0.0804198, 0.0378217, 0.0073248, 0.0868041, 0.069125, 0.0432814, 0.0191447,
            0.0059342, 0.0804595, 0.0729486, 0.0603413, 0.0448178, 0.029062, 0.0157984,
            0.0073203, 0.0742175, 0.0724335, 0.0681077, 0.0615755, 0.0533427, 0.0440474,
            0.0344096, 0.0251761, 0.0170622, 0.0106966, 0.0065725,
        ],
    }  # fmt: skip
    for (t_mul, m_mul, alpha), values in expected.items():
        s = schedules.CosineDecayRestarts(0.1, 10, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
        np.testing.assert_allclose([s(i) for i in range(0, 80, 3)], values, atol=2e-7)


def test_cosine_decay_restarts_config_and_errors():
    s = schedules.CosineDecayRestarts(0.1, 10)
    assert s.get_config() == {
        "initial_learning_rate": 0.1,
        "first_decay_steps": 10,
        "t_mul": 2.0,
        "m_mul": 1.0,
        "alpha": 0.0,
        "name": "SGDRDecay",
    }
    again = schedules.deserialize(schedules.serialize(s))
    assert isinstance(again, schedules.CosineDecayRestarts)
    assert again.get_config() == s.get_config()
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, 0)


# ----- LossScaleOptimizer ---------------------------------------------------------------------


def test_loss_scale_optimizer_equals_keras():
    # Keras 3.15.1 (KERAS_BACKEND=numpy: the JAX backend only applies it inside a traced step):
    #     r = np.random.RandomState(1)
    #     vw = keras.Variable(r.randn(3, 2).astype("float32"), name="kernel")
    #     vb = keras.Variable(r.randn(2).astype("float32"), name="bias")
    #     o = O.LossScaleOptimizer(O.SGD(0.1, momentum=0.5), initial_scale=4.0,
    #                              dynamic_growth_steps=2)
    #     for step in range(6):  (the gradients as below)
    #         o.apply([gw, gb], [vw, vb])
    #         print(int(o.iterations), float(o.dynamic_scale), int(o.step_counter))
    r = np.random.RandomState(1)
    vw = cr.Variable(r.randn(3, 2).astype("float32"), name="kernel")
    vb = cr.Variable(r.randn(2).astype("float32"), name="bias")
    opt = optimizers.LossScaleOptimizer(
        optimizers.SGD(0.1, momentum=0.5), initial_scale=4.0, dynamic_growth_steps=2
    )
    assert opt.scale_loss(2.0) == 8.0
    states = []
    for step in range(6):
        gw = r.randn(3, 2).astype("float32") * 4
        gb = r.randn(2).astype("float32") * 4
        if step == 2:
            gw[0, 0] = np.inf
        if step == 4:
            gb[1] = np.nan
        opt.apply([gw, gb], [vw, vb])
        states.append((int(opt.iterations), float(opt.dynamic_scale), int(opt.step_counter)))
    assert states == [(1, 4.0, 1), (2, 8.0, 0), (2, 4.0, 0), (3, 4.0, 1), (3, 2.0, 0), (4, 2.0, 1)]
    np.testing.assert_allclose(
        vw.data,
        [[1.6737448, -0.408034], [-0.7690516, -0.71633518], [1.5145694, -2.395149]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(vb.data, [1.16726005, -0.87154508], rtol=1e-6)
    assert opt.scale_loss(2.0) == 4.0
    assert opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 0.05
    assert opt.inner_optimizer.learning_rate == 0.05


def test_loss_scale_optimizer_config_round_trip_and_errors():
    keras.backend.clear_session()  # the session's first of its class: unnumbered
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=8.0)
    config = opt.get_config()
    assert config["inner_optimizer"]["class_name"] == "Adam"
    # as Keras 3: the float32 variable's value, 0.009999999776482582
    assert config["inner_optimizer"]["config"]["learning_rate"] == float(np.float32(0.01))
    assert (config["name"], config["initial_scale"], config["dynamic_growth_steps"]) == (
        "loss_scale_optimizer",
        8.0,
        2000,
    )
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, optimizers.LossScaleOptimizer)
    assert isinstance(again.inner_optimizer, optimizers.Adam)
    assert again.get_config() == config
    with pytest.raises(ValueError, match="clipnorm.*inner_optimizer"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(TypeError, match="inner_optimizer must be an Optimizer"):
        optimizers.LossScaleOptimizer("adam")


# ----- MultiOptimizer -------------------------------------------------------------------------


def test_multi_optimizer_equals_keras():
    # Keras 3.15.1 (KERAS_BACKEND=numpy), the same variables, gradients and map as below:
    #     o = O.MultiOptimizer(O.OptimizerMap(O.Lamb(0.02), {"bias": sgd, "e.*": adam}),
    #                          loss_scale_factor=2.0)
    r = np.random.RandomState(2)
    variables = [
        cr.Variable(r.randn(3, 2).astype("float32"), name="kernel"),
        cr.Variable(r.randn(2).astype("float32"), name="bias"),
        cr.Variable(r.randn(2, 2).astype("float32"), name="emb"),
    ]
    sgd, adam = optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(0.01)
    opt = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(optimizers.Lamb(0.02), {"bias": sgd, "e.*": adam}),
        loss_scale_factor=2.0,
    )
    for _ in range(3):
        opt.apply([r.randn(*v.shape).astype("float32") for v in variables], variables)
    assert opt.iterations == 3 and [o.iterations for o in opt.optimizers] == [3, 3, 3]
    assert opt.optimizers[:2] == [sgd, adam]
    expected = [
        [[-0.42967039, 0.0451661], [-2.15334129, 1.72739100], [-1.70260835, -0.92571813]],
        [0.72318292, -1.54505014],
        [[-1.0355978, -0.89196748], [0.52182561, 2.29833913]],
    ]
    for v, values in zip(variables, expected):
        np.testing.assert_allclose(v.data, values, rtol=1e-6, atol=1e-7)


def test_optimizer_map_lookup_and_errors():
    default, sgd = optimizers.Adam(), optimizers.SGD()
    mapping = optimizers.OptimizerMap(default, {"dense/kernel": sgd, "dense.*": optimizers.Lion()})
    assert mapping["dense/kernel"] is sgd  # an exact key first
    assert isinstance(mapping["dense/bias"], optimizers.Lion)
    assert mapping["other/bias"] is default
    mapping["d.*"] = optimizers.Nadam()
    with pytest.raises(ValueError, match="several optimizers"):
        mapping["dense/bias"]
    with pytest.raises(ValueError, match="already maps"):
        mapping["d.*"] = optimizers.SGD()
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        mapping["x"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer"):
        optimizers.OptimizerMap("adam")


def test_multi_optimizer_config_round_trip_and_errors():
    keras.backend.clear_session()  # the session's first of its class: unnumbered
    opt = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(optimizers.Adam(), {".*bias": optimizers.SGD(0.5)})
    )
    config = opt.get_config()
    assert config["name"] == "multi_optimizer" and config["loss_scale_factor"] is None
    map_config = config["optimizer_map"]
    assert map_config["class_name"] == "OptimizerMap"
    assert map_config["config"]["optimizer_map"][".*bias"]["class_name"] == "SGD"
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert again.get_config() == config
    with pytest.raises(AttributeError, match="no learning rate"):
        opt.learning_rate
    with pytest.raises(AttributeError, match="no learning rate"):
        opt.learning_rate = 0.1
    bad = optimizers.MultiOptimizer(lambda v: optimizers.LossScaleOptimizer(optimizers.SGD()))
    with pytest.raises(ValueError, match="cannot be used inside a MultiOptimizer"):
        bad.build([cr.Variable(np.zeros(2), name="w")])
    with pytest.raises(TypeError, match="callable"):
        optimizers.MultiOptimizer({"a": optimizers.SGD()})
    built = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD()))
    built.apply([np.ones(2)], [cr.Variable(np.zeros(2), name="w")])
    with pytest.raises(ValueError, match="one to one"):
        built.apply([np.ones(2), np.ones(2)], [cr.Variable(np.zeros(2))] * 2)
    with pytest.raises(ValueError, match="'other' was not among the variables"):
        built.apply([np.ones(2)], [cr.Variable(np.zeros(2), name="other")])


# ----- configs ---------------------------------------------------------------------------------

# Keras 3.15.1's get_config() of each with its defaults, less the arguments chainrule's base
# Optimizer does not take (use_ema, ema_*, loss_scale_factor, gradient_accumulation_steps) and
# the learning rate (Keras reports its float32 value): keras.optimizers.<Name>().get_config()
KERAS_CONFIGS = {
    "Ftrl": {
        "name": "ftrl",
        "learning_rate_power": -0.5,
        "initial_accumulator_value": 0.1,
        "l1_regularization_strength": 0.0,
        "l2_regularization_strength": 0.0,
        "l2_shrinkage_regularization_strength": 0.0,
        "beta": 0.0,
    },
    "Lamb": {"name": "lamb", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
    "Adafactor": {
        "name": "adafactor",
        "beta_2_decay": -0.8,
        "epsilon_1": 1e-30,
        "epsilon_2": 0.001,
        "clip_threshold": 1.0,
        "relative_step": True,
    },
    "Muon": {
        "name": "muon",
        "weight_decay": 0.004,
        "adam_beta_1": 0.9,
        "adam_beta_2": 0.999,
        "epsilon": 1e-07,
        "exclude_layers": [],
        "muon_a": 3.4445,
        "muon_b": -4.775,
        "muon_c": 2.0315,
        "adam_lr_ratio": 1,
        "momentum": 0.95,
        "ns_steps": 5,
        "nesterov": True,
        "exclude_embeddings": True,
        "adam_weight_decay": 0.004,
        "rms_rate": 0.2,
    },
    "ScheduleFreeAdamW": {
        "name": "schedule_free_adam_w",
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-08,
        "warmup_steps": 0,
    },
}
# Keras 3.15.1 writes the float32 learning-rate variable's value
KERAS_LEARNING_RATES = {
    "Ftrl": 0.0010000000474974513,
    "Lamb": 0.0010000000474974513,
    "Adafactor": 0.0010000000474974513,
    "Muon": 0.0010000000474974513,
    "ScheduleFreeAdamW": 0.0024999999441206455,
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_default_config_equals_keras_and_round_trips(name):
    cls = getattr(optimizers, name)
    keras.backend.clear_session()  # unnumbered: the session's first of its class
    config = cls().get_config()
    assert config["learning_rate"] == KERAS_LEARNING_RATES[name]
    assert {k: config[k] for k in KERAS_CONFIGS[name]} == KERAS_CONFIGS[name]
    assert cls.from_config(config).get_config() == config
    if name == "Lamb":  # Keras 3.15 has no string identifier for Lamb
        with pytest.raises(ValueError, match="Unknown optimizer: 'lamb'"):
            optimizers.get("lamb")
    else:
        # a second one of its class, numbered
        assert optimizers.get(name.lower()).get_config() == {
            **config,
            "name": f"{config['name']}_1",
        }
    described = optimizers.serialize(cls(learning_rate=schedules.CosineDecayRestarts(0.1, 5)))
    again = optimizers.deserialize(described)
    assert type(again) is cls
    assert isinstance(again._learning_rate, schedules.CosineDecayRestarts)


def test_ftrl_rejects_bad_arguments():
    with pytest.raises(ValueError, match="learning_rate_power must be negative or zero"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="l1_regularization_strength must be positive or zero"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)


def test_deserialize_names_the_unknown_class():
    with pytest.raises(ValueError, match="Unknown optimizer: 'Nope'"):
        optimizers.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        optimizers.deserialize("adam")


# ----- the state Keras stores, and fit ----------------------------------------------------------

x_train = np.random.RandomState(0).randn(64, 3).astype("float32")
y_train = x_train.sum(axis=1, keepdims=True)


def trained(optimizer, epochs=10):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer, "mse")
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=16, verbose=0).history
    return model, history["loss"]


# The optimizer/vars of model.weights.h5 that Keras 3.15.1 writes for this model (Dense(4) on 3
# inputs, then Dense(1)) after fit, as (shape, dtype kind):
#     model.compile(keras.optimizers.<Name>(), "mse"); model.fit(...); model.save("m.keras")
#     [(g[str(i)].shape, g[str(i)].dtype.kind) for i in range(len(g))]  # g = h5["optimizer/vars"]
# (chainrule writes iterations as int64 and the learning rate as float64, Keras int32 / float32)
KERAS_STATE = {
    "Adafactor": [
        ((), "i"), ((), "f"),
        ((3,), "f"), ((4,), "f"), ((3, 4), "f"), ((), "i"), ((), "i"), ((4,), "f"),
        ((4,), "f"), ((1,), "f"), ((4, 1), "f"), ((), "i"), ((), "i"), ((1,), "f"),
    ],
}  # fmt: skip
# two slots shaped like each variable, interleaved: kernel_accumulator, kernel_linear, bias_...
TWO_SLOTS = [((), "i"), ((), "f")] + [(s, "f") for s in [(3, 4), (4,), (4, 1), (1,)] for _ in "ab"]
KERAS_STATE.update(Ftrl=TWO_SLOTS, Lamb=TWO_SLOTS, ScheduleFreeAdamW=TWO_SLOTS)


@pytest.mark.parametrize("name", sorted(KERAS_STATE))
def test_saved_state_has_keras_layout_and_resumes(name, tmp_path):
    model, _ = trained(getattr(optimizers, name)(learning_rate=0.01), epochs=2)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as h5:
        group = h5["optimizer/vars"]
        stored = [(group[str(i)].shape, group[str(i)].dtype.kind) for i in range(len(group))]
    assert stored == KERAS_STATE[name]
    saved = model.optimizer._slots
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert type(again.optimizer) is type(model.optimizer)
    assert again.optimizer.iterations == model.optimizer.iterations == 8
    for slot, arrays in saved.items():
        loaded = again.optimizer._slots[slot]
        for original, variable in zip(model.trainable_weights, again.trainable_weights):
            np.testing.assert_array_equal(loaded[id(variable)], arrays[id(original)])
    # one more epoch each: the same weights
    model.fit(x_train, y_train, epochs=1, batch_size=16, verbose=0, shuffle=False)
    again.fit(x_train, y_train, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "build",
    [
        lambda: optimizers.Ftrl(0.5),
        lambda: optimizers.Lamb(0.02),
        lambda: optimizers.Adafactor(0.1),
        lambda: optimizers.Muon(0.02),
        lambda: optimizers.ScheduleFreeAdamW(0.05),
        lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.05), initial_scale=1.0),
        lambda: optimizers.MultiOptimizer(
            optimizers.OptimizerMap(optimizers.Adam(0.05), {".*bias": optimizers.SGD(0.1)})
        ),
        lambda: optimizers.SGD(schedules.CosineDecayRestarts(0.05, 8)),
    ],
)
def test_a_small_model_trains_through_fit(build):
    _, losses = trained(build())
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]


def test_loss_scaling_leaves_float32_training_unchanged():
    # a loop that differentiates scale_loss(loss), as Keras's training step does: the scale is a
    # power of two, so scaling and unscaling are exact and the weights follow the inner
    # optimizer's alone, bit for bit
    r = np.random.RandomState(4)
    x = r.randn(8, 3).astype("float32")
    w0 = r.randn(3, 2).astype("float32")

    def loss_of(w):
        return cr.reduce_sum(cr.matmul(cr.constant(x), w) ** 2)

    results = []
    for wrap in (False, True):
        w = cr.Variable(w0.copy(), name="kernel")
        opt = optimizers.Adam(0.01)
        if wrap:
            opt = optimizers.LossScaleOptimizer(opt, dynamic_growth_steps=2)
        for _ in range(5):
            loss = loss_of(w)
            if wrap:
                loss = opt.scale_loss(loss)
            w.grad = None
            loss.backward()
            opt.apply([w.grad], [w])
        results.append(w.data)
    assert opt.dynamic_scale == 2.0**17  # doubled after steps 2 and 4
    np.testing.assert_array_equal(results[0], results[1])


def test_fit_with_a_loss_scale_optimizer_trains_as_without_it():
    """fit differentiates the scaled loss S L (as Keras's train_step does with scale_loss), and
    the optimizer divides the gradients by S again: with S a power of two, bit for bit the same
    training as the inner optimizer alone."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ rng.normal(size=(4, 1)).astype("float32")
    weights = []
    for wrap in (False, True):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        sgd = keras.optimizers.SGD(0.05)
        model.compile(
            optimizer=keras.optimizers.LossScaleOptimizer(sgd) if wrap else sgd, loss="mse"
        )
        model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
