"""Images of shapes made by code, for the U-Net (given code: nothing to ship).

Each image holds one to three filled discs or squares on a noisy background; its mask
marks the pixels inside any shape (1, the foreground) and the rest (0, the background).
"""

import numpy as np


def make_shapes(n, size, rng):
    """n: int, the number of images; size: int, their height and width; rng: Generator.

    returns: ``(images, masks)``: images (n, 1, size, size) float64, masks (n, size, size)
    int64 of 0 and 1. Per image, in this order: the number of shapes
    ``rng.integers(1, 4)``; for each shape its kind ``rng.integers(0, 2)`` (0 a disc, 1 a
    square), its centre ``rng.integers(0, size, size=2)`` (row, column) and its radius
    ``rng.integers(2, size // 4 + 1)``; then the noise: ``image = mask + 0.3 *
    rng.standard_normal((size, size))``. A disc holds the pixels at distance <= radius
    from the centre, a square those within radius along both axes (side 2 radius + 1);
    shapes may overlap or be cut by the border.
    """
    rows, cols = np.mgrid[0:size, 0:size]
    images = np.empty((n, 1, size, size))
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        for _ in range(int(rng.integers(1, 4))):
            kind = int(rng.integers(0, 2))
            r0, c0 = rng.integers(0, size, size=2)
            radius = int(rng.integers(2, size // 4 + 1))
            if kind == 0:
                inside = (rows - r0) ** 2 + (cols - c0) ** 2 <= radius**2
            else:
                inside = (np.abs(rows - r0) <= radius) & (np.abs(cols - c0) <= radius)
            masks[i][inside] = 1
        images[i, 0] = masks[i] + 0.3 * rng.standard_normal((size, size))
    return images, masks


def foreground_iou(predicted, masks):
    """predicted, masks: (N, H, W) of 0 and 1. returns: the intersection over union of the
    foreground (the pixels equal to 1) over all images together, a float in [0, 1] (1.0
    when neither has any foreground)."""
    predicted, masks = np.asarray(predicted) == 1, np.asarray(masks) == 1
    union = np.logical_or(predicted, masks).sum()
    return 1.0 if union == 0 else float(np.logical_and(predicted, masks).sum() / union)
