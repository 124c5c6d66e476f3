"""Freezing layers, and one optimizer with a learning rate per group of layers.

Freezing goes through the course's parameter protocol: a layer whose ``trainable`` is
False is skipped by every optimizer (chapter 05's ``Optimizer.update_params``): its
parameters do not change and the optimizer keeps no state for them.
"""

from ..ch13_generative import Adam

# Fine-tuning's learning rates: the pretrained part moves ten times slower than the new head.
HEAD_LR = 3e-3
BODY_LR = 3e-4


def set_trainable(layers, trainable):
    """Set ``layer.trainable = trainable`` (a bool) on every layer of the list, layers
    without parameters included. returns: None."""
    ### BEGIN SOLUTION
    for layer in layers:
        layer.trainable = bool(trainable)
    ### END SOLUTION


class ParamGroups:
    """Several optimizers acting as one: each group of layers has its own optimizer, so its
    own learning rate (and its own step count and state).

    It has the three methods a training loop calls, so ``model.set(optimizer=ParamGroups(
    ...))`` trains a chapter 08 ``Model`` with a learning rate per group.

    groups: list of ``(layers, optimizer)`` pairs; a layer belongs to one group.
    """

    def __init__(self, groups):
        self.groups = [(list(layers), optimizer) for layers, optimizer in groups]

    def pre_update_params(self):
        """Every group's optimizer's ``pre_update_params()``, in order."""
        ### BEGIN SOLUTION
        for _, optimizer in self.groups:
            optimizer.pre_update_params()
        ### END SOLUTION

    def update_params(self, layer):
        """Update ``layer`` with the optimizer of the group that holds it (the same object:
        compare with ``is``): ``optimizer.update_params(layer)``, which leaves a frozen
        layer alone. raises: ValueError when no group holds the layer."""
        ### BEGIN SOLUTION
        for layers, optimizer in self.groups:
            if any(layer is member for member in layers):
                optimizer.update_params(layer)
                return
        raise ValueError(f"no group holds this layer ({type(layer).__name__})")
        ### END SOLUTION

    def post_update_params(self):
        """Every group's optimizer's ``post_update_params()``, in order."""
        ### BEGIN SOLUTION
        for _, optimizer in self.groups:
            optimizer.post_update_params()
        ### END SOLUTION

    def state_names(self, layer):
        """The sorted names of ``layer``'s parameters for which some optimizer keeps state
        (given; an empty list for a frozen layer)."""
        return sorted(name for _, optimizer in self.groups for (owner, name) in optimizer.state if owner is layer)


def fine_tune_groups(body, head):
    """``ParamGroups`` for fine-tuning: ``(body, Adam(learning_rate=BODY_LR))`` then
    ``(head, Adam(learning_rate=HEAD_LR))``. body, head: lists of layers."""
    ### BEGIN SOLUTION
    return ParamGroups([(body, Adam(learning_rate=BODY_LR)), (head, Adam(learning_rate=HEAD_LR))])
    ### END SOLUTION
