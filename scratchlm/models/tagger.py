"""Sequence labelling with a (stacked) bidirectional RNN: one tag per input token.

A tagger decides about token t from the whole sentence, both sides of t. A bidirectional layer
gives every position a summary of its left context (forward direction) and of its right context
(backward direction); a linear layer turns that into tag scores::

    e_t   = E[x_t]                                   (E,)
    h_t^1 = [->h_t ; <-h_t] = BiRNN^1(e_1..e_T)_t    (2H,)     see scratchlm.layers.bidirectional
    h_t^k = BiRNN^k(h^{k-1}_1..h^{k-1}_T)_t          (2H,)     k = 2 .. num_layers
    P(tag_t = j | x) = softmax(W_tag h_t^L + b_tag)_j
    loss = - (1/N) sum_{real positions t} log P(tag_t | x)

Rows of a batch may have different lengths; ``lengths`` (B,) says how many positions of each
row are real. The bidirectional layer reverses each row within its length, so padding never
reaches a real position's output, and the loss counts real positions only.

Parameters (names as PyTorch's ``nn.Embedding``, ``nn.LSTM(bidirectional=True)``, ``nn.Linear``)::

    embedding.weight (V, E)
    rnn.weight_ih_l0 (G*H, E), rnn.weight_hh_l0 (G*H, H), rnn.bias_ih_l0, rnn.bias_hh_l0, and *_reverse
    rnn.weight_ih_l1 (G*H, 2H), ...                                     (layers after the first)
    classifier.weight (K, 2H), classifier.bias (K,)
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS
from scratchlm.layers.bidirectional import init_bidirectional_params
from scratchlm.models.parameters import ParameterDictModel


class BiRNNTagger(ParameterDictModel):
    """Embeddings, ``num_layers`` bidirectional RNN layers, and a linear classifier per position.

    Args:
        vocab_size: V; num_tags: K.
        embed_dim: E; hidden_size: H per direction (the classifier reads 2H features).
        num_layers: bidirectional layers stacked; cell: "rnn", "lstm" or "gru".
        seed, dtype: initialisation seed and float dtype of the parameters.
    """

    def __init__(self, vocab_size, num_tags, embed_dim=16, hidden_size=32, num_layers=1, cell="lstm",
                 seed=0, dtype="float32"):
        for name, value in (("vocab_size", vocab_size), ("num_tags", num_tags), ("embed_dim", embed_dim),
                            ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: expected one of {', '.join(CELLS)}")
        self.vocab_size, self.num_tags = int(vocab_size), int(num_tags)
        self.embed_dim, self.hidden_size, self.num_layers, self.cell = int(embed_dim), int(hidden_size), int(num_layers), cell
        self.dtype = np.dtype(dtype)
        self.training = True
        rng = np.random.default_rng(seed)
        params = {"embedding.weight": backend.asarray(rng.standard_normal((vocab_size, embed_dim)).astype(self.dtype))}
        for layer in range(num_layers):
            input_size = embed_dim if layer == 0 else 2 * hidden_size
            layer_params = init_bidirectional_params(input_size, hidden_size, cell, layer, rng, self.dtype)
            params.update({"rnn." + name: value for name, value in layer_params.items()})
        bound = 1.0 / np.sqrt(2 * hidden_size)
        params["classifier.weight"] = backend.asarray(rng.uniform(-bound, bound, (num_tags, 2 * hidden_size)).astype(self.dtype))
        params["classifier.bias"] = backend.asarray(rng.uniform(-bound, bound, (num_tags,)).astype(self.dtype))
        self.params = params

    def forward(self, inputs, lengths=None):
        """Tag scores (B, T, K) for inputs (B, T) int with real lengths (B,) (None: all T)."""
        scores, _ = self._forward(inputs, lengths)
        return scores

    def predict(self, inputs, lengths=None):
        """The most probable tag at every position, a NumPy int array (B, T)."""
        return np.asarray(backend.asnumpy(self.forward(inputs, lengths).argmax(axis=-1)))

    def _forward(self, inputs, lengths):
        inputs = self._check_inputs(inputs)
        if lengths is not None:
            lengths = np.asarray(backend.asnumpy(lengths))
        rnn_params = {name[len("rnn."):]: value for name, value in self.params.items() if name.startswith("rnn.")}
        x, embedding_cache = backend.op("embedding_forward")(backend.asarray(inputs), self.params["embedding.weight"])  # (B, T, E)
        layer_caches = []
        for layer in range(self.num_layers):
            x, _, cache = backend.op("bidirectional_forward")(x, None, rnn_params, self.cell, layer, lengths)   # (B, T, 2H)
            layer_caches.append(cache)
        scores, classifier_cache = backend.op("linear_forward")(x, self.params["classifier.weight"], self.params["classifier.bias"])
        return scores, (embedding_cache, layer_caches, classifier_cache, lengths)

    def loss_and_grads(self, inputs, tags, lengths=None):
        """Mean NLL per real position, and its gradients keyed like :attr:`params`.

        inputs, tags (B, T) int; lengths (B,) int or None. Returns (loss, grads).
        """
        scores, (embedding_cache, layer_caches, classifier_cache, lengths) = self._forward(inputs, lengths)
        tags = np.asarray(backend.asnumpy(tags))
        if tags.shape != scores.shape[:2] or not np.issubdtype(tags.dtype, np.integer):
            raise ValueError(f"tags must be an int array shaped like inputs {scores.shape[:2]}, got {tags.dtype} {tags.shape}")
        if tags.min() < 0 or tags.max() >= self.num_tags:
            raise ValueError(f"tags must lie in 0..{self.num_tags - 1}")
        mask = None
        if lengths is not None:
            mask = backend.asarray(np.arange(tags.shape[1])[None, :] < lengths[:, None])   # (B, T): real positions
        loss, loss_cache = backend.op("softmax_cross_entropy_forward")(scores, backend.asarray(tags), mask)

        grads = {}
        dscores = backend.op("softmax_cross_entropy_backward")(loss_cache)
        dx, grads["classifier.weight"], grads["classifier.bias"] = backend.op("linear_backward")(dscores, classifier_cache)
        for cache in reversed(layer_caches):
            dx, _, dparams = backend.op("bidirectional_backward")(dx, None, cache)
            grads.update({"rnn." + name: value for name, value in dparams.items()})
        grads["embedding.weight"] = backend.op("embedding_backward")(dx, embedding_cache)
        return float(loss), grads

    def _check_inputs(self, inputs):
        inputs = np.asarray(backend.asnumpy(inputs))
        if inputs.ndim != 2 or not np.issubdtype(inputs.dtype, np.integer) or inputs.shape[1] < 1:
            raise ValueError(f"inputs must be a 2-D int array of token ids (batch, time >= 1), got {inputs.dtype} {inputs.shape}")
        if inputs.min() < 0 or inputs.max() >= self.vocab_size:
            raise ValueError(f"inputs hold ids outside the vocabulary 0..{self.vocab_size - 1}")
        return inputs
