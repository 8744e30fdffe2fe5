"""Sequence classification (many-to-one): a recurrent encoder, pooling over time, a softmax classifier.

One label for a whole sequence (is this name Finnish or English? who speaks this line?)::

    x_t = E[w_t]                      (E)       or, with frozen ELMo features, the scalar mix
                                                x_t = gamma sum_j s_j h_{j,t}  (scratchlm.layers.scalar_mix)
    h_t = RNN(x_1 .. x_T)_t           (H)       Elman RNN, LSTM or GRU; bidirectional: [->h_t ; <-h_t] (2H)
    p   = pool(h_1 .. h_n)            (P)       "last", "mean" or "max" over the n real steps
                                                (scratchlm.layers.pooling)
    P(y = k | w) = softmax(W p + b)_k
    loss = - (1/B) sum_b log P(y_b | w_b)

Rows of a batch may have different lengths (``lengths``, padding after the real tokens). A
left-to-right RNN reads the padding only *after* the real tokens, so its states at real positions
are those of the unpadded row; the bidirectional layer reverses each row within its length; and
the pooling reads real positions only.

Parameters (PyTorch-style names)::

    embedding.weight (V, E)                                     without features
    scalar_mix.scalar_parameters (L,), scalar_mix.gamma (1,)    with L feature layers instead
    rnn.weight_ih_l0 (G*H, E), rnn.weight_hh_l0 (G*H, H), rnn.bias_ih_l0, rnn.bias_hh_l0 (and *_reverse)
    classifier.weight (K, P), classifier.bias (K,)              P = H, or 2H when bidirectional
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS
from scratchlm.layers.bidirectional import bidirectional_backward, bidirectional_forward, init_bidirectional_params
from scratchlm.layers.embedding import embedding_backward, embedding_forward
from scratchlm.layers.linear import linear_backward, linear_forward
from scratchlm.layers.pooling import POOLINGS, pool_backward, pool_forward
from scratchlm.layers.scalar_mix import init_scalar_mix_params, scalar_mix_backward, scalar_mix_forward
from scratchlm.layers.softmax_cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from scratchlm.models.parameters import ParameterDictModel

CELL_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class SequenceClassifier(ParameterDictModel):
    """Embedding (or a scalar mix of frozen features), a recurrent encoder, pooling, a linear classifier.

    Args:
        vocab_size: V (ignored with ``feature_layers``); num_classes: K.
        embed_dim: E; hidden_size: H (per direction).
        cell: "rnn", "lstm" or "gru"; bidirectional: two directions, P = 2H features.
        pooling: "last", "mean" or "max".
        feature_layers: None (read token ids through an embedding), or L: read L feature layers
            of width ``feature_size`` per token (e.g. a BiLM's, :func:`elmo_layers`) through a
            learned scalar mix.
        feature_size: D, the width of each feature layer.
        seed, dtype: initialisation seed and float dtype of the parameters.
    """

    def __init__(self, vocab_size, num_classes, embed_dim=16, hidden_size=32, cell="lstm", bidirectional=False,
                 pooling="last", feature_layers=None, feature_size=None, seed=0, dtype="float32"):
        for name, value in (("num_classes", num_classes), ("embed_dim", embed_dim), ("hidden_size", hidden_size)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: expected one of {', '.join(CELLS)}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}: expected one of {', '.join(POOLINGS)}")
        if feature_layers is not None and (feature_size is None or int(feature_size) < 1):
            raise ValueError("feature_layers needs feature_size, the width D of each feature layer")
        self.vocab_size, self.num_classes = vocab_size, int(num_classes)
        self.embed_dim, self.hidden_size, self.cell = int(embed_dim), int(hidden_size), cell
        self.bidirectional, self.pooling = bool(bidirectional), pooling
        self.feature_layers = feature_layers
        self.dtype = np.dtype(dtype)
        self.training = True
        rng = np.random.default_rng(seed)
        params = {}
        if feature_layers is None:
            params["embedding.weight"] = rng.standard_normal((vocab_size, embed_dim))
            input_size = embed_dim
        else:
            params.update({f"scalar_mix.{name}": backend.asnumpy(value)
                           for name, value in init_scalar_mix_params(int(feature_layers)).items()})
            input_size = int(feature_size)
        H, G = self.hidden_size, CELLS[cell].num_gates
        if self.bidirectional:
            rnn = init_bidirectional_params(input_size, H, cell, 0, rng, np.float64)
            params.update({f"rnn.{name}": backend.asnumpy(value) for name, value in rnn.items()})
        else:
            bound = 1.0 / np.sqrt(H)
            for name, shape in (("weight_ih", (G * H, input_size)), ("weight_hh", (G * H, H)),
                                ("bias_ih", (G * H,)), ("bias_hh", (G * H,))):
                params[f"rnn.{name}_l0"] = rng.uniform(-bound, bound, shape)
        pooled = 2 * H if self.bidirectional else H
        bound = 1.0 / np.sqrt(pooled)
        params["classifier.weight"] = rng.uniform(-bound, bound, (num_classes, pooled))
        params["classifier.bias"] = rng.uniform(-bound, bound, (num_classes,))
        self.params = {name: backend.asarray(np.asarray(value).astype(self.dtype)) for name, value in params.items()}

    def _rnn_params(self):
        return {name[len("rnn."):]: value for name, value in self.params.items() if name.startswith("rnn.")}

    def forward(self, inputs, lengths=None):
        """Class scores (B, K). inputs: ids (B, T) int, or with feature_layers a list of L arrays (B, T, D)."""
        logits, _ = self._forward(inputs, lengths)
        return logits

    def predict(self, inputs, lengths=None):
        """The most probable class of every row, a NumPy int array (B,)."""
        return np.asarray(backend.asnumpy(self.forward(inputs, lengths).argmax(axis=-1)))

    def _forward(self, inputs, lengths):
        x, input_cache, lengths = self._inputs_forward(inputs, lengths)                       # (B, T, E or D)
        if self.bidirectional:
            hs, _, rnn_cache = bidirectional_forward(x, None, self._rnn_params(), self.cell, 0, lengths)   # (B, T, 2H)
        else:
            rnn_params = {name: self.params[f"rnn.{name}_l0"] for name in CELL_PARAM_NAMES}
            hs, _, rnn_cache = CELLS[self.cell].forward(x, None, rnn_params)                  # (B, T, H)
        pooled, pool_cache = pool_forward(hs, None if lengths is None else backend.asarray(lengths),
                                          self.pooling, self.bidirectional)                  # (B, P)
        logits, classifier_cache = linear_forward(pooled, self.params["classifier.weight"], self.params["classifier.bias"])
        return logits, (input_cache, rnn_cache, pool_cache, classifier_cache)

    def _inputs_forward(self, inputs, lengths):
        if self.feature_layers is None:
            ids = np.asarray(backend.asnumpy(inputs))
            if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
                raise ValueError(f"inputs must be a 2-D int array of token ids (batch, time), got {ids.dtype} {ids.shape}")
            x, cache = embedding_forward(backend.asarray(ids), self.params["embedding.weight"])
            batch, time = ids.shape
        else:
            if not isinstance(inputs, (list, tuple)) or len(inputs) != self.feature_layers:
                raise ValueError(f"this classifier reads {self.feature_layers} feature layers: inputs must be a list "
                                 f"of {self.feature_layers} arrays (B, T, D)")
            mix_params = {"scalar_parameters": self.params["scalar_mix.scalar_parameters"],
                          "gamma": self.params["scalar_mix.gamma"]}
            x, cache = scalar_mix_forward([backend.asarray(layer, dtype=self.dtype) for layer in inputs], mix_params)
            batch, time = x.shape[:2]
        if lengths is not None:
            lengths = np.asarray(backend.asnumpy(lengths))
            if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer) \
                    or lengths.min() < 1 or lengths.max() > time:
                raise ValueError(f"lengths must be an int array of shape ({batch},) with values in 1..{time}")
        return x, cache, lengths

    def loss_and_grads(self, inputs, labels, lengths=None):
        """Mean NLL per sequence, and its gradients keyed like :attr:`params`.

        inputs: as :meth:`forward`; labels (B,) int in 0..K-1; lengths (B,) int or None.
        Returns (loss, grads).
        """
        logits, (input_cache, rnn_cache, pool_cache, classifier_cache) = self._forward(inputs, lengths)
        labels = np.asarray(backend.asnumpy(labels))
        if labels.shape != (logits.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be an int array of shape ({logits.shape[0]},), got {labels.dtype} {labels.shape}")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must lie in 0..{self.num_classes - 1}")
        loss, loss_cache = softmax_cross_entropy_forward(logits[:, None, :], backend.asarray(labels[:, None]))

        grads = {}
        dlogits = softmax_cross_entropy_backward(loss_cache)[:, 0, :]
        dpooled, grads["classifier.weight"], grads["classifier.bias"] = linear_backward(dlogits, classifier_cache)
        dhs = pool_backward(dpooled, pool_cache)
        if self.bidirectional:
            dx, _, dparams = bidirectional_backward(dhs, None, rnn_cache)
            grads.update({f"rnn.{name}": value for name, value in dparams.items()})
        else:
            dx, _, dparams = CELLS[self.cell].backward(dhs, None, rnn_cache)
            grads.update({f"rnn.{name}_l0": value for name, value in dparams.items()})
        if self.feature_layers is None:
            grads["embedding.weight"] = embedding_backward(dx, input_cache)
        else:
            _, dmix = scalar_mix_backward(dx, input_cache)     # the features are frozen: their gradient is dropped
            grads.update({f"scalar_mix.{name}": value for name, value in dmix.items()})
        return float(loss), {name: grads[name] for name in self.params}

    def mix_weights(self):
        """(s, gamma): the learned softmax layer weights (L,) and scale, as NumPy; feature_layers only."""
        if self.feature_layers is None:
            raise ValueError("this classifier reads token ids, not feature layers: it has no scalar mix")
        w = np.asarray(backend.asnumpy(self.params["scalar_mix.scalar_parameters"]), dtype=np.float64)
        s = np.exp(w - w.max())
        return s / s.sum(), float(backend.asnumpy(self.params["scalar_mix.gamma"])[0])


def elmo_layers(bilm, sequences, lengths=None):
    """ELMo's L = K + 1 feature layers of a trained :class:`~scratchlm.models.bilm.BiLM`, all (B, L, 2H).

    Layer 0 is the token embedding duplicated, [x_t ; x_t], as ELMo does so that it has the width
    of the recurrent layers [->h^k_t ; <-h^k_t] (this needs the BiLM's embed_dim == hidden_size).
    ``sequences`` are framed (<bos> w_1 .. w_n <eos>) as the BiLM reads them; the returned arrays
    keep every position, the markers included.
    """
    if bilm.embed_dim != bilm.hidden_size:
        raise ValueError(f"ELMo's layer 0 is [x ; x], which needs the BiLM's embed_dim == hidden_size, "
                         f"got {bilm.embed_dim} and {bilm.hidden_size}")
    layers = bilm.representations(sequences, lengths)
    xp = backend.xp()
    return [xp.concatenate([layers[0], layers[0]], axis=-1)] + layers[1:]
