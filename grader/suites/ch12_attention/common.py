"""Chapter 12 suite helpers: parameters of multi-head attention and of an encoder block,
building the student's layers with given parameters, and the checks the tests share."""

from grader.api import Rng, StudentError, fail, np, reference, set_attributes

# Shared with the other chapters; the test files take them from here.
from grader.suites.common import check_forward_first, check_named_gradients  # noqa: F401

ref = reference("ch12_attention")
variants = reference("ch12_attention.variants")

H_STEP = 1e-5  # central differences on smooth float64 functions (per layer)
MHA_NAMES = ("Wq", "Wk", "Wv", "Wo", "bq", "bk", "bv", "bo")
MASK_RULE = (
    "the chapter's mask convention: True = may attend, False = the key is hidden (weight exactly 0)"
)


def fixed_inputs(*shape, lo=-0.8, hi=0.9):
    """Deterministic inputs with every entry different."""
    return np.linspace(lo, hi, num=int(np.prod(shape))).reshape(shape)


def fixed_mha_params(E):
    """Deterministic weights with every entry different (np.linspace, a different range
    for each matrix), so that a matrix used in the wrong place changes the result."""
    ranges = [(-0.6, 0.7), (0.5, -0.4), (-0.3, 0.8), (0.6, -0.7)]
    out = {
        name: np.linspace(lo, hi, E * E).reshape(E, E) * np.sqrt(8.0 / E)
        for name, (lo, hi) in zip(MHA_NAMES[:4], ranges)
    }
    for k, name in enumerate(MHA_NAMES[4:]):
        out[name] = np.linspace(-0.1 * (k + 1), 0.05 * (k + 1), E).reshape(1, E)
    return out


def random_mha_params(rng, E, scale=0.5):
    out = {name: scale * rng.standard_normal((E, E)) for name in MHA_NAMES[:4]}
    out.update({name: 0.1 * rng.standard_normal((1, E)) for name in MHA_NAMES[4:]})
    return out


def block_shapes(E, F):
    shapes = {"ln1.gamma": (1, E), "ln1.beta": (1, E)}
    shapes.update({f"attn.{n}": (E, E) if n.startswith("W") else (1, E) for n in MHA_NAMES})
    shapes.update(
        {
            "ln2.gamma": (1, E),
            "ln2.beta": (1, E),
            "ff1.weights": (E, F),
            "ff1.biases": (1, F),
            "ff2.weights": (F, E),
            "ff2.biases": (1, E),
        }
    )
    return shapes


def random_block_params(rng, E, F):
    out = {}
    for name, shape in block_shapes(E, F).items():
        base = 1.0 if name.endswith("gamma") else 0.0
        scale = 0.5 if "weights" in name or ".W" in name else 0.2
        out[name] = base + scale * rng.standard_normal(shape)
    return out


def set_params(holder, params):
    """Write every array of ``params`` into the student's object (``"a.b"``: attribute b
    of the sub-layer a)."""
    groups = {}  # the path of each sub-layer -> its attributes, set in one round trip
    for name, value in params.items():
        *parts, last = name.split(".")
        groups.setdefault(tuple(parts), {})[last] = np.array(value, dtype=np.float64)
    for parts, values in groups.items():
        target = holder
        for part in parts:
            target = getattr(target, part)
        set_attributes(target, values)


def make_mha(student, E, n_heads, params, causal=False):
    layer = student.MultiHeadAttention(E, n_heads, Rng(0), causal=causal)
    set_params(layer, params)
    return layer


def make_block(student, E, n_heads, F, params, causal=False):
    block = student.EncoderBlock(E, n_heads, F, Rng(0), causal=causal)
    set_params(block, params)
    return block


def attr(obj, name, call, hint=""):
    """obj.name, or a failure saying that ``call`` did not set it."""
    try:
        return getattr(obj, name)
    except StudentError as exc:
        if exc.summary.startswith("AttributeError"):
            fail(f"{call} did not set self.{name}", (hint + "\n" if hint else "") + exc.summary)
        raise


def gradients_of(layer, names, call):
    """layer.gradients() as a dict, checked to have every parameter name."""
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


def pair(got, call):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (output, weights)", f"got a {type(got).__name__}")
    return got
