# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 13: generative models
#
# Networks that output images: an autoencoder, a variational autoencoder (VAE) and a small
# U-Net. You write `exercises/ch13_generative/` (`autoencoder.py`, `vae.py`, `unet.py`;
# `shapes.py` is given). Chapter text: `exercises/ch13_generative/README.md`. MNIST pixels
# are in [0, 1] here (the bytes divided by 255): each pixel is read as a probability.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch13")

# %%
import matplotlib.pyplot as plt
import numpy as np

from data.loaders import load_mnist_idx
from exercises.ch13_generative import (
    BinaryCrossEntropyWithLogits,
    Upsample2D,
    concat_channels,
    foreground_iou,
    kl_divergence,
    make_shapes,
    reparameterize,
    split_channels,
    train_unet,
    train_vae,
)

# %% [markdown]
# ## Binary cross-entropy on logits
#
# `max(l, 0) - l t + log(1 + exp(-|l|))`, summed over the pixels: finite for any logit.
# A logit of 1000 with target 0 costs exactly 1000 nats; with target 1, nothing.

# %%
loss = BinaryCrossEntropyWithLogits()
print(loss.forward(np.array([[1000.0, -1000.0, 0.0]]), np.array([[0.0, 0.0, 1.0]])))  # 1000 + 0 + log 2

# %% [markdown]
# ## The reparameterization and the KL term
#
# `z = mu + exp(logvar / 2) * eps`: the noise is passed in, so the same arguments give the
# same code. The KL term is 0 at the prior (mu = 0, logvar = 0) and grows as mu moves away
# or the variance shrinks or grows.

# %%
rng = np.random.default_rng(0)
mu, logvar, eps = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
print(np.array_equal(reparameterize(mu, logvar, eps), reparameterize(mu, logvar, eps)))
print(kl_divergence(np.zeros((1, 2)), np.zeros((1, 2))), kl_divergence(mu, logvar))

# %% [markdown]
# ## Upsampling and the skip concatenation
#
# Each value becomes a 2 x 2 block; backward sums each block. `concat_channels(skip, up)`
# puts the skip's channels first; `split_channels` routes the gradient back.

# %%
up = Upsample2D()
x = np.arange(4.0).reshape(1, 1, 2, 2)
print(up.forward(x)[0, 0])
print(up.backward(np.ones((1, 1, 4, 4)))[0, 0])  # 4 everywhere
cat = concat_channels(np.zeros((1, 1, 2, 2)), np.ones((1, 2, 2, 2)))
print(cat.shape, [part.shape for part in split_channels(cat, 1)])

# %% [markdown]
# ## A VAE on 1,500 digits
#
# The graded settings (8 latent dimensions, 4 epochs) on half as many images: a few seconds.
# Then codes drawn from the prior N(0, I), decoded.

# %%
images, labels = load_mnist_idx()
X = images.reshape(len(images), -1).astype(float) / 255.0
vae = train_vae(X[:1500], np.random.default_rng(0))
print("negative ELBO per epoch:", np.round(vae.history, 1))
samples = vae.generate(np.random.default_rng(1).standard_normal((16, vae.n_latent)))
plt.figure(figsize=(8, 1))
plt.imshow(samples.reshape(16, 28, 28).transpose(1, 0, 2).reshape(28, -1), cmap="gray_r")
plt.axis("off")
plt.show()

# %% [markdown]
# ## A U-Net on generated shapes
#
# 400 noisy 16 x 16 images of discs and squares (the graded run uses 800); the foreground
# IoU on 200 new ones.

# %%
Xs, Ys = make_shapes(400, 16, np.random.default_rng(1))
Xt, Yt = make_shapes(200, 16, np.random.default_rng(2))
unet = train_unet(Xs, Ys, np.random.default_rng(0))
pred = unet.predict(Xt)
print("foreground IoU:", round(foreground_iou(pred, Yt), 3))
fig, axes = plt.subplots(3, 4, figsize=(6, 4.5))
for c in range(4):
    for r, img in enumerate([Xt[c, 0], Yt[c], pred[c]]):
        axes[r, c].imshow(img, cmap="gray")
        axes[r, c].axis("off")
plt.show()

# %% [markdown]
# ## Your grade for this chapter
#
# BCE on logits (values, extreme logits, gradient), the autoencoder (layers, forward,
# gradients, reconstruction error after training), the reparameterization and the KL term
# (values, diagnoses, gradients), the VAE (encode, forward, gradient check, a negative ELBO
# the grader computes from your encoder and decoder), the U-Net's pieces and the whole U-Net
# (values, gradient check, IoU after training). Grading trains three small models: about ten
# seconds.

# %%
grade_cell("ch13")
