"""Chapter 11 suite helpers: parameters by kind of layer, building the student's cells and
layers with given parameters, and the checks every recurrent test shares."""

from grader.api import StudentError, check_array, fail, np, reference, set_attributes
from grader.suites.common import check_forward_first, check_named_gradients

ref = reference("ch11_recurrent")
variants = reference("ch11_recurrent.variants")

# kind -> (layer class, cell class, gate blocks, parameter names)
KINDS = {
    "rnn": ("RNN", "RNNCell", 1, ("weights_x", "weights_h", "biases")),
    "lstm": ("LSTM", "LSTMCell", 4, ("weights_x", "weights_h", "biases")),
    "gru": ("GRU", "GRUCell", 3, ("weights_x", "weights_h", "biases_x", "biases_h")),
}
GATES = {"lstm": "ifgo", "gru": "rzn"}
GATE_NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
}
H_STEP = 1e-5  # central differences on smooth float64 functions (tanh, sigmoid)


def param_shapes(kind, D, H):
    G = KINDS[kind][2]
    shapes = {"weights_x": (D, G * H), "weights_h": (H, G * H)}
    if kind == "gru":
        shapes.update(biases_x=(1, G * H), biases_h=(1, G * H))
    else:
        shapes["biases"] = (1, G * H)
    return shapes


def fixed_params(kind, D, H):
    """Deterministic weights with every entry different (np.linspace), so that a block
    read in the wrong place, or a transposed matrix, changes the result."""
    out = {}
    for k, (name, shape) in enumerate(param_shapes(kind, D, H).items()):
        lo, hi = [(-0.7, 0.5), (-0.3, 0.6), (-0.4, 0.3), (0.2, -0.5)][k]
        out[name] = np.linspace(lo, hi, num=int(np.prod(shape))).reshape(shape)
    return out


def random_params(rng, kind, D, H, scale=0.6):
    return {
        name: scale * rng.standard_normal(shape) for name, shape in param_shapes(kind, D, H).items()
    }


def fixed_inputs(*shape, lo=-0.5, hi=0.9):
    return np.linspace(lo, hi, num=int(np.prod(shape))).reshape(shape)


def set_params(holder, params):
    set_attributes(holder, {name: np.array(v, dtype=np.float64) for name, v in params.items()})


def make_cell(student, kind, D, H, params):
    cell = getattr(student, KINDS[kind][1])(D, H, _rng())
    set_params(cell, params)
    return cell


def make_layer(student, kind, D, H, params):
    layer = getattr(student, KINDS[kind][0])(D, H, _rng())
    set_params(layer.cell, params)
    return layer


def _rng():
    from grader.api import Rng

    return Rng(0)


def attr(obj, name, call, hint=""):
    """obj.name, or a failure saying that ``call`` did not set it."""
    try:
        return getattr(obj, name)
    except StudentError as exc:
        if exc.summary.startswith("AttributeError"):
            fail(f"{call} did not set self.{name}", (hint + "\n" if hint else "") + exc.summary)
        raise


def gradients_of(layer, names, call):
    """layer.gradients() as a dict, checked to have exactly the parameter names."""
    got = layer.gradients()
    if not isinstance(got, dict):
        fail(f"{call}: gradients() returned a {type(got).__name__}, expected a dict name -> array")
    missing = [n for n in names if n not in got]
    if missing:
        fail(
            f"{call}: gradients() has no entry {missing[0]!r}",
            f"expected the names {list(names)}, got {list(got)}",
        )
    return got


def sequence_args(kind, x, h0, c0):
    return (x, h0, c0) if kind == "lstm" else (x, h0)


def gate_order_bugs(kind, H, compute):
    """[(description, value)] for every wrong order of the gate blocks: ``compute(params_map)``
    gives the output with the parameters re-cut by ``params_map(params)``."""
    gates = GATES[kind]
    want = ", ".join(gates)
    bugs = []
    for order in variants.gate_orders(gates):
        names = ", ".join(GATE_NAMES[g] for g in order)
        bugs.append(
            (
                f"the gate blocks are read in the order {', '.join(order)} ({names}); the course's order "
                f"(PyTorch's) is {want}: columns [0:H] are {GATE_NAMES[gates[0]]}, [H:2H] "
                f"{GATE_NAMES[gates[1]]}, [2H:3H] {GATE_NAMES[gates[2]]}"
                + (f", [3H:4H] {GATE_NAMES[gates[3]]}" if len(gates) == 4 else ""),
                compute(lambda p, order=order: variants.permuted(p, order, gates, H)),
            )
        )
    return bugs


__all__ = [
    "GATES",
    "H_STEP",
    "KINDS",
    "attr",
    "check_array",
    "check_forward_first",
    "check_named_gradients",
    "fixed_inputs",
    "fixed_params",
    "gate_order_bugs",
    "gradients_of",
    "make_cell",
    "make_layer",
    "np",
    "param_shapes",
    "random_params",
    "ref",
    "sequence_args",
    "set_params",
    "variants",
]
