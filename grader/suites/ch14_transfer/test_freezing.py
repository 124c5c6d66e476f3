"""Chapter 14: freezing (set_trainable) and one optimizer with a learning rate per group
(ParamGroups, fine_tune_groups)."""

from grader.api import Rng, check_array, check_true, np, points, reference
from grader.suites.ch14_transfer.cases import expect_value_error, ref
from grader.suites.common import type_name

ref05 = reference("ch05_optimizers")  # the SGD steps with a decaying learning rate

FROZEN_BUG = "A layer whose trainable is False must not change: ParamGroups.update_params must go through optimizer.update_params(layer), which skips a layer whose trainable is False"


def _dense(student, oracle, key, n_in, n_out):
    w, b, dw, db = oracle.random(
        key,
        lambda rng: (
            rng.standard_normal((n_in, n_out)),
            rng.standard_normal((1, n_out)),
            rng.standard_normal((n_in, n_out)),
            rng.standard_normal((1, n_out)),
        ),
    )
    layer = student.Dense(n_in, n_out, Rng(0))
    layer.weights, layer.biases, layer.dweights, layer.dbiases = w, b, dw, db
    return layer, {"weights": w, "biases": b}, {"weights": dw, "biases": db}


def _steps(groups, layers, n):
    for _ in range(n):
        groups.pre_update_params()
        for layer in layers:
            groups.update_params(layer)
        groups.post_update_params()


@points(1)
def test_set_trainable_sets_the_flag_on_every_layer(student, oracle):
    layers = [student.Dense(2, 3, Rng(0)), student.ReLU(), student.Conv2D(1, 2, 3, rng=Rng(1))]
    student.set_trainable(layers, False)
    flags = [layer.trainable for layer in layers]
    names = [type_name(layer) for layer in layers]
    check_true(
        flags == [False, False, False],
        f"set_trainable(layers, False) left trainable = {flags} on {names}",
        "Set layer.trainable on every layer of the list, those without parameters too (an optimizer only reads trainable).",
    )
    student.set_trainable(layers, True)
    flags = [layer.trainable for layer in layers]
    check_true(
        flags == [True, True, True],
        f"set_trainable(layers, True) left trainable = {flags}",
        "Unfreezing sets trainable back to True.",
    )


@points(3)
def test_param_groups_leave_a_frozen_layer_alone(student, oracle):
    """Group 1: a frozen Dense and a ReLU (Adam 0.01); group 2: a Dense (Adam 0.1). After
    three steps the frozen Dense is unchanged and no optimizer keeps state for it."""
    d1, p1, _ = _dense(student, oracle, "d1", 3, 4)
    d2, p2, g2 = _dense(student, oracle, "d2", 4, 2)
    relu = student.ReLU()
    student.set_trainable([d1, relu], False)
    groups = student.ParamGroups(
        [([d1, relu], student.Adam(learning_rate=0.01)), ([d2], student.Adam(learning_rate=0.1))]
    )
    _steps(groups, [d1, relu, d2], 3)
    call = "ParamGroups.update_params(layer), 3 steps"
    changed = [n for n, v in p1.items() if not np.array_equal(np.asarray(getattr(d1, n)), v)]
    check_true(
        not changed,
        f"{call}: the frozen layer was still updated ({changed[0] if changed else ''} changed)",
        FROZEN_BUG,
    )
    names = groups.state_names(d1)
    check_true(
        names == [],
        f"{call}: the optimizer keeps state for the frozen parameters {names}",
        "A frozen layer must not get optimizer state (no moments for parameters that never move): "
        "skip it before creating any state (optimizer.update_params does).",
    )
    want = oracle.compute(
        "want", lambda: ref.group_steps(p2, [g2] * 3, {"weights": 0.1, "biases": 0.1})[0]
    )
    check_array(d2.weights, want["weights"], call=call, what="the trainable layer's weights")


@points(2)
def test_param_groups_each_group_has_its_own_learning_rate(student, oracle):
    """Two trainable Dense layers in two groups (Adam 0.01 and Adam 0.1), three steps: each
    must move as Adam with its own group's learning rate."""
    d1, p1, g1 = _dense(student, oracle, "d1", 3, 4)
    d2, p2, g2 = _dense(student, oracle, "d2", 4, 2)
    groups = student.ParamGroups(
        [([d1], student.Adam(learning_rate=0.01)), ([d2], student.Adam(learning_rate=0.1))]
    )
    _steps(groups, [d1, d2], 3)

    def expected():
        out = {}
        for tag, p, g in (("d1", p1, g1), ("d2", p2, g2)):
            for lr in (0.01, 0.1):
                out[f"{tag}@{lr}"] = ref.group_steps(p, [g] * 3, {"weights": lr, "biases": lr})[0]
        return out

    want = oracle.compute("want", expected)
    call = "ParamGroups([([d1], Adam(0.01)), ([d2], Adam(0.1))]), 3 steps"
    for tag, layer, lr, other in (("d1", d1, 0.01, 0.1), ("d2", d2, 0.1, 0.01)):
        for name in ("weights", "biases"):
            check_array(
                getattr(layer, name),
                want[f"{tag}@{lr}"][name],
                call=call,
                what=f"{tag}.{name}",
                known_bugs=[
                    (
                        f"{tag} moved with learning rate {other} instead of its own group's {lr}: "
                        "update each layer with the optimizer of the group that holds it",
                        want[f"{tag}@{other}"][name],
                    )
                ],
            )


@points(1)
def test_param_groups_refuse_a_layer_of_no_group(student, oracle):
    d1 = student.Dense(2, 2, Rng(0))
    other = student.Dense(2, 2, Rng(1))
    groups = student.ParamGroups([([d1], student.Adam(learning_rate=0.01))])
    groups.pre_update_params()
    expect_value_error(
        "ParamGroups.update_params(a layer no group holds)",
        lambda: groups.update_params(other),
        "A layer that belongs to no group has no learning rate: raise ValueError rather than guess one.",
    )


@points(2)
def test_fine_tune_groups_body_ten_times_slower(student, oracle):
    """fine_tune_groups([body Dense], [head Dense]), two steps: the body moves as Adam with
    BODY_LR = 3e-4, the head as Adam with HEAD_LR = 3e-3."""
    body, pb, gb = _dense(student, oracle, "body", 3, 4)
    head, ph, gh = _dense(student, oracle, "head", 4, 2)
    groups = student.fine_tune_groups([body], [head])
    _steps(groups, [body, head], 2)

    def expected():
        return {
            f"{tag}@{name}": ref.group_steps(p, [g] * 2, {"weights": lr, "biases": lr})[0]
            for tag, p, g in (("body", pb, gb), ("head", ph, gh))
            for name, lr in (("BODY_LR", ref.BODY_LR), ("HEAD_LR", ref.HEAD_LR))
        }

    want = oracle.compute("want", expected)
    call = "fine_tune_groups([body], [head]), 2 steps"
    check_array(
        body.weights,
        want["body@BODY_LR"]["weights"],
        call=call,
        what="the body's weights",
        known_bugs=[
            (
                "the pretrained part's learning rate equals the head's (HEAD_LR): the body must learn with BODY_LR = HEAD_LR / 10",
                want["body@HEAD_LR"]["weights"],
            )
        ],
    )
    check_array(
        head.weights,
        want["head@HEAD_LR"]["weights"],
        call=call,
        what="the head's weights",
        known_bugs=[
            (
                "the head learned with BODY_LR: the new head learns with HEAD_LR",
                want["head@BODY_LR"]["weights"],
            )
        ],
    )


@points(1)
def test_param_groups_step_every_group_s_schedule(student, oracle):
    """Two groups of SGD with a decaying learning rate (0.1 with decay 0.5, and 0.05 with
    decay 1.0), three steps: each group's learning rate must decay, which needs every
    group's pre_update_params() and post_update_params()."""
    d1, p1, g1 = _dense(student, oracle, "d1", 3, 4)
    d2, p2, g2 = _dense(student, oracle, "d2", 4, 2)
    rates = {"d1": (0.1, 0.5), "d2": (0.05, 1.0)}
    groups = student.ParamGroups(
        [
            ([d], student.SGD(learning_rate=lr, decay=decay))
            for d, (lr, decay) in zip((d1, d2), rates.values())
        ]
    )
    _steps(groups, [d1, d2], 3)

    def expected():
        out = {}
        for tag, p, g in (("d1", p1, g1), ("d2", p2, g2)):
            lr, decay = rates[tag]
            out[tag] = ref05.sgd_steps(p, [g] * 3, learning_rate=lr, decay=decay)[-1]
            out[tag + "@constant"] = ref05.sgd_steps(p, [g] * 3, learning_rate=lr)[-1]
        return out

    want = oracle.compute("want", expected)
    call = "ParamGroups([([d1], SGD(0.1, decay=0.5)), ([d2], SGD(0.05, decay=1.0))]), 3 steps"
    for tag, layer in (("d1", d1), ("d2", d2)):
        check_array(
            layer.weights,
            want[tag]["weights"],
            call=call,
            what=f"{tag}.weights",
            known_bugs=[
                (
                    f"{tag}'s learning rate did not decay: call every group's optimizer's "
                    "pre_update_params() and post_update_params(), not only the first's",
                    want[tag + "@constant"]["weights"],
                )
            ],
        )
