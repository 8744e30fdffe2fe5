"""What every model with a parameter dict shares: counting, saving, loading, train/eval mode.

A model keeps its trainable arrays in ``self.params`` (name -> array, named like PyTorch's
state_dict) in the dtype ``self.dtype``. Optimizers, clipping, checkpoints and gradient checks see
only that dict, so these few methods are all a model needs to be trained and saved.
"""
from __future__ import annotations

from scratchlm import backend


class ParameterDictModel:
    """Mixin for models whose parameters live in ``self.params``."""

    training = True

    def num_parameters(self) -> int:
        """The number of trainable scalars."""
        return sum(int(p.size) for p in self.params.values())

    def state_dict(self) -> dict:
        """The parameters as NumPy arrays, under the names of :attr:`params`."""
        return {name: backend.asnumpy(value) for name, value in self.params.items()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy arrays saved by :meth:`state_dict` into the parameters (keys and shapes must match)."""
        if set(state_dict) != set(self.params):
            raise ValueError(f"state_dict has keys {sorted(state_dict)}, expected {sorted(self.params)}")
        for name, value in state_dict.items():
            if tuple(value.shape) != tuple(self.params[name].shape):
                raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {tuple(self.params[name].shape)}")
            self.params[name][...] = backend.asarray(value, dtype=self.dtype)

    def train(self):
        """Training mode: dropout on, in the models that have it. Returns the model."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode: dropout off. Returns the model."""
        self.training = False
        return self
