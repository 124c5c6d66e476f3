"""Style transfer with the pretrained LeNet-5: an image is optimised so that its feature
maps keep the *content* of one image and the *style* (Gram matrices: which channels fire
together, wherever they fire) of another.

The feature maps are the outputs of ``build_lenet``'s layers at ``STYLE_LAYERS``: layer 1
(the ReLU after the first convolution, (N, 6, 28, 28)) and layer 4 (the ReLU after the
second, (N, 16, 10, 10)); the content is compared at ``CONTENT_LAYER`` = 4. The network
never changes: only the image is trained.
"""

import numpy as np

from ..ch13_generative import Adam, Layer

STYLE_LAYERS = (1, 4)
CONTENT_LAYER = 4
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 100.0, 1e-3
STYLE_STEPS, STYLE_LEARNING_RATE = 100, 0.05


def feature_maps(layers, images, indices=STYLE_LAYERS):
    """Run ``layers`` in order on images (``training=False``) as far as the largest index
    and return the outputs of the layers at ``indices``, in the order of ``indices``.

    layers: a model's layers; images: (N, 1, 28, 28); indices: increasing ints.
    returns: list of arrays, e.g. [(N, 6, 28, 28), (N, 16, 10, 10)] for (1, 4).
    """
    ### BEGIN SOLUTION
    outputs, out = [], images
    for i in range(max(indices) + 1):
        out = layers[i].forward(out, training=False)
        if i in indices:
            outputs.append(out)
    return [outputs[sorted(indices).index(i)] for i in indices]
    ### END SOLUTION


def gram(features):
    """features: (N, C, H, W). With F the (C, H*W) matrix of one image's maps,
    ``G = F @ F.T / (C * H * W)``. returns: (N, C, C)."""
    ### BEGIN SOLUTION
    N, C, H, W = features.shape
    F = features.reshape(N, C, H * W)
    return F @ F.transpose(0, 2, 1) / (C * H * W)
    ### END SOLUTION


def gram_backward(dgram, features):
    """dgram: (N, C, C), the gradient of a loss with respect to ``gram(features)``;
    features: (N, C, H, W). returns: the gradient with respect to the features,
    ``(dG + dG^T) @ F / (C * H * W)`` reshaped to (N, C, H, W) (dG^T: each image's matrix
    transposed; do not assume dG is symmetric)."""
    ### BEGIN SOLUTION
    N, C, H, W = features.shape
    F = features.reshape(N, C, H * W)
    dF = (dgram + dgram.transpose(0, 2, 1)) @ F / (C * H * W)
    return dF.reshape(features.shape)
    ### END SOLUTION


def content_loss(features, target):
    """The mean over every entry of ``(features - target) ** 2`` (a float). Both (N, C, H, W)."""
    ### BEGIN SOLUTION
    return float(np.mean((features - target) ** 2))
    ### END SOLUTION


def content_loss_backward(features, target):
    """The gradient of ``content_loss`` with respect to features: ``2 (features - target) / size``."""
    ### BEGIN SOLUTION
    return 2.0 * (features - target) / features.size
    ### END SOLUTION


def style_loss(G, A):
    """G, A: (N, C, C) Gram matrices (A: the style's). returns: the sum over all entries of
    ``(G - A) ** 2``, divided by N (the mean over the batch of each image's sum), a float."""
    ### BEGIN SOLUTION
    return float(np.sum((G - A) ** 2) / len(G))
    ### END SOLUTION


def style_loss_backward(G, A):
    """The gradient of ``style_loss`` with respect to G: ``2 (G - A) / N``, (N, C, C)."""
    ### BEGIN SOLUTION
    return 2.0 * (G - A) / len(G)
    ### END SOLUTION


def tv_loss(images):
    """Total variation: the sum of the squared differences between vertical neighbours
    (``x[:, :, i + 1, j] - x[:, :, i, j]``) and between horizontal neighbours
    (``x[:, :, i, j + 1] - x[:, :, i, j]``), divided by N. images: (N, C, H, W). returns: float."""
    ### BEGIN SOLUTION
    dv = images[:, :, 1:, :] - images[:, :, :-1, :]
    dh = images[:, :, :, 1:] - images[:, :, :, :-1]
    return float((np.sum(dv ** 2) + np.sum(dh ** 2)) / len(images))
    ### END SOLUTION


def tv_loss_backward(images):
    """The gradient of ``tv_loss`` with respect to the images, (N, C, H, W): each difference
    ``d = x[b] - x[a]`` adds ``2 d / N`` at b and ``-2 d / N`` at a."""
    ### BEGIN SOLUTION
    dv = images[:, :, 1:, :] - images[:, :, :-1, :]
    dh = images[:, :, :, 1:] - images[:, :, :, :-1]
    grad = np.zeros_like(images)
    grad[:, :, 1:, :] += 2 * dv
    grad[:, :, :-1, :] -= 2 * dv
    grad[:, :, :, 1:] += 2 * dh
    grad[:, :, :, :-1] -= 2 * dh
    return grad / len(images)
    ### END SOLUTION


def style_targets(layers, content, style):
    """(P, A1, A4): the content image's maps at ``CONTENT_LAYER`` and the Gram matrices of
    the style image's maps at the two ``STYLE_LAYERS`` (given)."""
    (P,) = feature_maps(layers, content, (CONTENT_LAYER,))
    s1, s4 = feature_maps(layers, style, STYLE_LAYERS)
    return P, gram(s1), gram(s4)


def style_transfer_loss(layers, image, targets, weights=(CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT)):
    """The loss of an image and its gradient.

    targets: ``(P, A1, A4)`` from ``style_targets``; weights: ``(wc, ws, wt)``. With
    ``f1, f4 = feature_maps(layers, image)`` (layers 1 and 4):

        loss = wc * content_loss(f4, P) + ws * (style_loss(gram(f1), A1) + style_loss(gram(f4), A4))
               + wt * tv_loss(image)

    The gradient goes back through the network's own ``backward`` methods: the gradient
    at layer 4's output (style and content terms) through layers 4, 3, 2; add the gradient
    at layer 1's output (style term); then through layers 1 and 0; add the TV term's.
    Run ``feature_maps`` first: each layer's backward reads what its forward kept.

    The gradient with respect to the image is the point here, but chapter 08's
    ``finalize`` switched it off in the first layer (``input_gradient = False``: a model
    trains its weights, not its data). The first line (given) switches it back on, so
    ``layers[0].backward`` returns the image's gradient instead of None.

    image: (N, 1, 28, 28). returns: (loss, dimage): a float and (N, 1, 28, 28).
    """
    layers[0].input_gradient = True  # the image is what this gradient is for
    ### BEGIN SOLUTION
    wc, ws, wt = weights
    P, A1, A4 = targets
    f1, f4 = feature_maps(layers, image, STYLE_LAYERS)
    g1, g4 = gram(f1), gram(f4)
    loss = (wc * content_loss(f4, P) + ws * (style_loss(g1, A1) + style_loss(g4, A4))
            + wt * tv_loss(image))
    d = ws * gram_backward(style_loss_backward(g4, A4), f4) + wc * content_loss_backward(f4, P)
    for i in (4, 3, 2):
        d = layers[i].backward(d)
    d = d + ws * gram_backward(style_loss_backward(g1, A1), f1)
    for i in (1, 0):
        d = layers[i].backward(d)
    return loss, d + wt * tv_loss_backward(image)
    ### END SOLUTION


class ImageParameter(Layer):
    """An image held as a layer's parameter (given), so that chapter 05's optimizers update
    it: ``parameters()`` is ``{"image": self.image}``, ``gradients()`` ``{"image": self.dimage}``."""

    def __init__(self, image):
        self.image = np.array(image, dtype=np.float64)
        self.dimage = np.zeros_like(self.image)

    def parameters(self):
        return {"image": self.image}

    def gradients(self):
        return {"image": self.dimage}


def stylize(layers, content, style, steps=STYLE_STEPS, learning_rate=STYLE_LEARNING_RATE,
            weights=(CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT)):
    """Optimise an image, starting from a copy of the content image.

    ``targets = style_targets(layers, content, style)``; ``param = ImageParameter(content)``;
    ``optimizer = Adam(learning_rate=learning_rate)``; then ``steps`` times:
    ``loss, param.dimage = style_transfer_loss(layers, param.image, targets, weights)``,
    ``pre_update_params()``, ``update_params(param)``, ``post_update_params()``.

    content, style: (1, 1, 28, 28) images in [-1, 1]. returns: ``(image, history)``: the
    final image (1, 1, 28, 28) and the list of the ``steps`` losses (each before its update).
    """
    ### BEGIN SOLUTION
    targets = style_targets(layers, content, style)
    param = ImageParameter(content)
    optimizer = Adam(learning_rate=learning_rate)
    history = []
    for _ in range(steps):
        loss, param.dimage = style_transfer_loss(layers, param.image, targets, weights)
        history.append(loss)
        optimizer.pre_update_params()
        optimizer.update_params(param)
        optimizer.post_update_params()
    return param.image, history
    ### END SOLUTION
