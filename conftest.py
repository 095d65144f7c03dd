"""Root pytest configuration, shared by the module tests and ``pytest --nbval notebooks``.

Environment set here is inherited by the Jupyter kernels nbval starts, so
TensorFlow's C++ start-up logs never reach a notebook's stderr (strict nbval
compares stderr too) and every run is on the CPU.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("TQDM_DISABLE", "1")
