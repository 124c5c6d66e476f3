"""The code the stubs give (not a TODO) keeps the promises of its docstrings.

The grader's suites score the student's work; the checks below are about lines every student
receives as they are (the same in solutions/ and exercises/), so they are tested here, on the
course's own code, and earn no points.
"""

from __future__ import annotations

import numpy as np
import pytest

from solutions.ch01_neurons import Layer
from solutions.ch05_optimizers import SGD, Optimizer
from solutions.ch07_generalization import Dropout
from solutions.ch08_model import Accuracy, Model
from solutions.ch08_model.saving import layer_spec, object_spec
from solutions.ch12_attention import MultiHeadAttention


class _Bare(Layer):
    pass


def test_layer_base_names_the_class_that_lacks_forward_and_backward():
    with pytest.raises(NotImplementedError, match="_Bare defines no forward"):
        _Bare().forward(np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="_Bare defines no backward"):
        _Bare().backward(np.zeros((2, 3)))


def test_layer_base_defaults():
    layer = _Bare()
    assert layer.trainable is True
    assert layer.parameters() == {} and layer.gradients() == {}
    assert layer.buffers() == {} and layer.regularizers() == {}


def test_layer_base_wants_the_input_gradient_by_default():
    """input_gradient is True unless a Model's finalize says nothing reads the layer's dinputs."""
    assert _Bare.input_gradient is True and _Bare().input_gradient is True


def test_optimizer_base_leaves_the_rule_to_each_optimizer():
    with pytest.raises(NotImplementedError, match="update_parameter"):
        Optimizer.update_parameter(SGD(), np.zeros(3), np.ones(3), {})


def test_accuracy_base_leaves_compare_to_each_subclass():
    with pytest.raises(NotImplementedError, match="compare"):
        Accuracy().compare(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_refuses_a_rate_outside_zero_to_one(rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        Dropout(rate, np.random.default_rng(0))


@pytest.mark.parametrize("rate", [0.0, 0.5, 0.999])
def test_dropout_accepts_a_rate_in_zero_to_one(rate):
    assert Dropout(rate, np.random.default_rng(0)).rate == rate


def test_multihead_refuses_a_model_size_not_divisible_by_the_heads():
    with pytest.raises(ValueError, match="d_model = 10 is not a multiple of n_heads = 3"):
        MultiHeadAttention(10, 3, np.random.default_rng(0))
    assert MultiHeadAttention(12, 3, np.random.default_rng(0)).n_heads == 3


def test_saving_refuses_a_class_a_model_file_cannot_hold():
    with pytest.raises(ValueError, match="cannot save a layer of class _Bare"):
        layer_spec(_Bare())
    with pytest.raises(ValueError, match="cannot save a model of class"):
        object_spec(Model(), {}, "model")
