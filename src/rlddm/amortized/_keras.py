"""The one place Keras is imported: the backend default is set before its first import.

The backend is TensorFlow unless ``KERAS_BACKEND`` is already set (a user's choice wins);
it must be decided before Keras is first imported, so set it before importing any Keras
module of rlddm (``rlddm train --backend jax`` does).
"""

import os

DEFAULT_BACKEND = "tensorflow"
# bayesflow picks JAX, then PyTorch, then TensorFlow when KERAS_BACKEND is unset
# (bayesflow/__init__.py), so the default has to be set here, before its import.
os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)

import bayesflow as bf  # noqa: E402
import keras  # noqa: E402

__all__ = ["DEFAULT_BACKEND", "bf", "keras"]
