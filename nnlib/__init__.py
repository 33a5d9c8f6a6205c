"""nnlib: a small numpy library for learning how neural networks learn.

The names follow PyTorch (``Linear``, ``ReLU``, ``CrossEntropyLoss``,
``SGD``, ``StepLR``), so what a reader learns here carries over.

Importing ``nnlib`` loads only the numeric core (numpy). Figures and
explorers live in ``nnlib.plots`` and ``nnlib.widgets``, imported on their own
because they bring in matplotlib and ipywidgets.
"""

from . import data, surfaces
from .activations import (LeakyReLU, ReLU, Sigmoid, Tanh, leaky_relu, leaky_relu_grad, relu, relu_grad,
                          sigmoid, sigmoid_grad, tanh, tanh_grad)
from .core import Module, Parameter, Sequential
from .gradcheck import gradcheck, numerical_grad
from .layers import AvgPool2d, Dropout, Flatten, Linear, MaxPool2d
from .losses import (BCEWithLogitsLoss, CombinedLoss, CrossEntropyLoss, L1Penalty, L2Penalty, Loss, MSELoss,
                     Penalty, log_softmax, softmax)
from .optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, MultiStepLR, StepLR
from .train import History, accuracy, evaluate, fit, predict

__all__ = [
    # core
    "Parameter", "Module", "Sequential",
    # layers and activations
    "Linear", "Dropout", "MaxPool2d", "AvgPool2d", "Flatten",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU",
    "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    # losses
    "softmax", "log_softmax", "Loss", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "CombinedLoss",
    "Penalty", "L1Penalty", "L2Penalty",
    # optimizers and schedules
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    # training and checking
    "fit", "evaluate", "predict", "accuracy", "History", "gradcheck", "numerical_grad",
    # sub-modules
    "data", "surfaces",
]
