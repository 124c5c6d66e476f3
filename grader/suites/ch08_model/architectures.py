"""Chapter 08 suite helpers: architectures as data, shared by the chapter's test files.

An architecture is a list of ``{"class": name, "args": {...}}`` entries, the same
description the course's model files store; the tests build it in the worker with the
student's own classes.
"""

def dense(n_in, n_out, **penalties):
    args = {"n_inputs": n_in, "n_neurons": n_out}
    args.update(penalties)
    return {"class": "Dense", "args": args}


def layer(name, **args):
    return {"class": name, "args": args}


def describe(arch):
    """'Dense(2, 8) -> ReLU -> Dropout(0.2) -> ...' for feedback."""
    parts = []
    for entry in arch:
        a = entry.get("args", {})
        if entry["class"] == "Dense":
            extra = "".join(f", {k}={v}" for k, v in a.items() if k not in ("n_inputs", "n_neurons") and v)
            parts.append(f"Dense({a['n_inputs']}, {a['n_neurons']}{extra})")
        elif a:
            parts.append(f"{entry['class']}({', '.join(str(v) for v in a.values())})")
        else:
            parts.append(entry["class"])
    return " -> ".join(parts)


def draw_params(rng, arch, scale=0.5):
    """Random starting parameters for arch (BatchNorm statistics included)."""
    params = {}
    for i, entry in enumerate(arch):
        a = entry.get("args", {})
        if entry["class"] == "Dense":
            params[f"layer{i}.weights"] = scale * rng.standard_normal((a["n_inputs"], a["n_neurons"]))
            params[f"layer{i}.biases"] = 0.1 * rng.standard_normal((1, a["n_neurons"]))
        elif entry["class"] == "BatchNorm":
            d = a["n_features"]
            params[f"layer{i}.gamma"] = 1.0 + 0.2 * rng.standard_normal((1, d))
            params[f"layer{i}.beta"] = 0.1 * rng.standard_normal((1, d))
            params[f"layer{i}.running_mean"] = 0.3 * rng.standard_normal((1, d))
            params[f"layer{i}.running_var"] = 0.5 + rng.random((1, d))
    return params
