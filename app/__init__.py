"""convscope: see inside a convolutional neural network."""

__version__ = "1.0.0"
