"""ImageNet backbones from ``keras.applications`` that take [0, 1] images.

Every image model in fashionsim takes float32 RGB images in [0, 1]; the
backbone-specific preprocessing is a layer inside the model, so the same
``images.dataset`` feeds every backbone and a saved model carries its own
preprocessing. Taught in notebooks 01, 03 and 04.

>>> net = build_backbone("mobilenet_v2", image_size=32, weights=None)   # random weights, no download
>>> net.input_shape, net.output_shape
((None, 32, 32, 3), (None, 1280))
>>> net.get_layer("preprocess").mode                                    # [0, 1] -> [-1, 1] inside the model
'tf'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import keras
from keras import layers

from fashionsim._compat import renamed

Weights = str | os.PathLike | None


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What fashionsim knows about one ``keras.applications`` backbone."""

    constructor: Callable[..., keras.Model]
    preprocessing: str  # "tf" ([-1, 1]), "torch" (ImageNet mean/std), "caffe" (BGR, mean-subtracted), "raw" ([0, 255])
    min_size: int
    default_size: int


def _specs() -> dict[str, BackboneSpec]:
    apps = keras.applications
    return {
        "inception_v3": BackboneSpec(apps.InceptionV3, "tf", 75, 299),
        "resnet50": BackboneSpec(apps.ResNet50, "caffe", 32, 224),
        "efficientnet_b0": BackboneSpec(apps.EfficientNetB0, "raw", 32, 224),
        "mobilenet_v2": BackboneSpec(apps.MobileNetV2, "tf", 32, 224),
        "densenet121": BackboneSpec(apps.DenseNet121, "torch", 32, 224),
    }


BACKBONES = tuple(sorted(("inception_v3", "resnet50", "efficientnet_b0", "mobilenet_v2", "densenet121")))

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="fashionsim")
class ImagenetPreprocess(layers.Layer):
    """Map [0, 1] RGB images to what an ImageNet backbone expects.

    ``mode``: ``"tf"`` → [-1, 1]; ``"torch"`` → (x − mean) / std; ``"caffe"`` →
    BGR in [0, 255] minus the ImageNet mean; ``"raw"`` → RGB in [0, 255].
    """

    MODES = ("tf", "torch", "caffe", "raw")

    def __init__(self, mode: str = "tf", **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode

    def call(self, inputs):
        ops = keras.ops
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "tf":
            return x * 2.0 - 1.0
        if self.mode == "torch":
            return (x - ops.array(_TORCH_MEAN, dtype=x.dtype)) / ops.array(_TORCH_STD, dtype=x.dtype)
        if self.mode == "caffe":
            return ops.flip(x * 255.0, axis=-1) - ops.array(_CAFFE_MEAN_BGR, dtype=x.dtype)
        return x * 255.0

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


def _check_weights(weights: Weights) -> str | Path | None:
    if weights is None or weights == "imagenet":
        return weights
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights file not found: {path} (weights must be 'imagenet', None or a path to a weights file)"
        )
    return path


@renamed(input_size="image_size")
def build_backbone(
    name: str = "inception_v3",
    *,
    image_size: int = 299,
    weights: Weights = None,
    pooling: str = "avg",
    trainable: bool = True,
) -> keras.Model:
    """A ``keras.applications`` backbone without its top, taking [0, 1] images.

    Parameters
    ----------
    name: one of :data:`BACKBONES`.
    image_size: side of the square input, at least the backbone's minimum (75 for InceptionV3);
        ``input_size=`` is still accepted, with a ``FutureWarning``.
    weights: ``"imagenet"`` (downloaded by Keras on first use; needs a network),
        ``None`` (random initialisation) or the path of a weights file saved from a
        backbone of the same name and input size (``model.save_weights("x.weights.h5")``).
    pooling: ``"avg"`` or ``"max"``: the output is one vector per image.

    Returns a functional model (input (None, size, size, 3) in [0, 1] → (None, features)).
    """
    specs = _specs()
    if name not in specs:
        raise ValueError(f"unknown backbone {name!r}; choose one of {list(BACKBONES)}")
    spec = specs[name]
    if int(image_size) < spec.min_size:
        raise ValueError(f"image_size for {name} must be at least {spec.min_size}, got {image_size}")
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
    weights = _check_weights(weights)
    shape = (int(image_size), int(image_size), 3)
    try:
        base = spec.constructor(
            include_top=False, weights="imagenet" if weights == "imagenet" else None,
            input_shape=shape, pooling=pooling,
        )
    except Exception as exc:  # noqa: BLE001 - re-raised with the reason users need
        if weights == "imagenet":
            raise RuntimeError(
                f"could not get the ImageNet weights of {name} ({type(exc).__name__}: {exc}). "
                "Keras downloads them on first use: this needs a network. Offline, pass weights=None "
                "or the path of a local weights file."
            ) from exc
        raise
    if isinstance(weights, Path):
        try:
            base.load_weights(weights)
        except (ValueError, OSError) as exc:
            raise ValueError(f"weights file {weights} does not fit backbone {name} at {image_size} px: {exc}") from exc
    base.trainable = trainable
    inputs = keras.Input(shape=shape, name="image")
    x = ImagenetPreprocess(spec.preprocessing, name="preprocess")(inputs)
    outputs = base(x)
    return keras.Model(inputs, outputs, name=f"{name}_backbone")
