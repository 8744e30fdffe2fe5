"""A bidirectional language model as in ELMo (Peters et al., 2018): a forward LM and a backward LM.

Two language models read the same framed sequence s_0 .. s_{L-1} = <bos> w_1 .. w_n <eos>, one
left to right, one right to left. They share the token embeddings and the softmax; each has its own
stack of recurrent layers::

    x_t      = E[s_t]
    ->h^k_t  = cell^k_fwd(->h^{k-1}_t, ->h^k_{t-1}),   ->h^0_t = x_t       k = 1 .. K
    <-h^k_t  = cell^k_bwd(<-h^{k-1}_t, <-h^k_{t+1}),   <-h^0_t = x_t
    P(s_{t+1} | s_0 .. s_t)     = softmax(W ->h^K_t + b)        t = 0 .. L-2
    P(s_{t-1} | s_t .. s_{L-1}) = softmax(W <-h^K_t + b)        t = 1 .. L-1

    loss = - ( sum_t log P(s_{t+1} | s_<=t) + sum_t log P(s_{t-1} | s_>=t) ) / (2 (L - 1))

i.e. the mean NLL per predicted token over both directions (each predicts L - 1 tokens: the
forward LM ends on <eos>, the backward LM on <bos>). Unlike a stacked bidirectional RNN
(:mod:`scratchlm.layers.bidirectional`), layer k of one direction reads only layer k-1 of the same
direction: neither LM may see the tokens it has to predict.

After training, [->h^k_t ; <-h^k_t] is a representation of token s_t in its whole context, from
both sides (ELMo's layer k); :meth:`BiLM.representations` returns them for every layer.

Rows of a batch may have different lengths (``lengths``, padding after the real tokens); the
backward LM reverses each row within its length (:func:`~scratchlm.layers.bidirectional.reverse_sequences`).

Parameters (PyTorch-style names)::

    embedding.weight (V, E)
    forward.rnn.weight_ih_l0 (G*H, E), forward.rnn.weight_hh_l0 (G*H, H), ...bias_ih_l0, ...bias_hh_l0
    forward.rnn.weight_ih_l1 (G*H, H), ...                                 (layers after the first)
    backward.rnn.* (as forward.rnn.*)
    decoder.weight (V, H), decoder.bias (V,)
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS
from scratchlm.layers.bidirectional import reverse_sequences
from scratchlm.models.parameters import ParameterDictModel
from scratchlm.checks import check_token_ids

DIRECTIONS = ("forward", "backward")
CELL_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class BiLM(ParameterDictModel):
    """ELMo's pair of language models: shared embeddings and softmax, one recurrent stack per direction.

    Args:
        vocab_size: V; embed_dim: E; hidden_size: H; num_layers: K layers per direction.
        cell: "rnn", "lstm" or "gru". seed, dtype: initialisation seed and float dtype.
    """

    def __init__(self, vocab_size, embed_dim=32, hidden_size=64, num_layers=2, cell="lstm", seed=0, dtype="float32"):
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim),
                            ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: expected one of {', '.join(CELLS)}")
        self.vocab_size, self.embed_dim, self.hidden_size = int(vocab_size), int(embed_dim), int(hidden_size)
        self.num_layers, self.cell = int(num_layers), cell
        self.dtype = np.dtype(dtype)
        self.training = True
        self.params = self._init_params(np.random.default_rng(seed))

    def _init_params(self, rng):
        """PyTorch's defaults: embeddings N(0, 1); recurrent and decoder weights U(-1/sqrt(H), 1/sqrt(H))."""
        V, E, H, G = self.vocab_size, self.embed_dim, self.hidden_size, CELLS[self.cell].num_gates
        bound = 1.0 / np.sqrt(H)
        params = {"embedding.weight": rng.standard_normal((V, E))}
        for direction in DIRECTIONS:
            for layer in range(self.num_layers):
                input_size = E if layer == 0 else H
                shapes = {"weight_ih": (G * H, input_size), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
                for name, shape in shapes.items():
                    params[f"{direction}.rnn.{name}_l{layer}"] = rng.uniform(-bound, bound, size=shape)
        params["decoder.weight"] = rng.uniform(-bound, bound, size=(V, H))
        params["decoder.bias"] = rng.uniform(-bound, bound, size=(V,))
        return {name: backend.asarray(value.astype(self.dtype)) for name, value in params.items()}

    def _cell_params(self, direction, layer):
        return {name: self.params[f"{direction}.rnn.{name}_l{layer}"] for name in CELL_PARAM_NAMES}

    # ---- forward and backward ------------------------------------------------------------

    def _stacks(self, sequences, lengths):
        """Embeddings and both recurrent stacks; the backward stack's outputs in original time order."""
        x, embedding_cache = backend.op("embedding_forward")(backend.asarray(sequences), self.params["embedding.weight"])   # (B, L, E)
        run = backend.op(f"{self.cell}_forward")
        outputs = {direction: [] for direction in DIRECTIONS}
        caches = {direction: [] for direction in DIRECTIONS}
        for direction in DIRECTIONS:
            h = x if direction == "forward" else reverse_sequences(x, lengths)
            for layer in range(self.num_layers):
                h, _, cache = run(h, None, self._cell_params(direction, layer))                           # (B, L, H)
                caches[direction].append(cache)
                outputs[direction].append(h if direction == "forward" else reverse_sequences(h, lengths))
        return x, outputs, (embedding_cache, caches)

    def loss_and_grads(self, sequences, lengths=None):
        """Mean NLL per predicted token over both directions, and its gradients keyed like :attr:`params`.

        sequences: (B, L) int, each row <bos> w_1 .. w_n <eos> followed by padding.
        lengths: (B,) int, the framed length n + 2 of each row (None: every row is L long).
        Returns (loss, grads).
        """
        loss, (loss_cache, decoder_cache, caches, lengths, batch) = self._loss(sequences, lengths)
        embedding_cache, cell_caches = caches
        grads = {}
        dlogits = backend.op("softmax_cross_entropy_backward")(loss_cache)                          # (2B, L-1, V)
        dtops, grads["decoder.weight"], grads["decoder.bias"] = backend.op("linear_backward")(dlogits, decoder_cache)
        xp = backend.xp()
        zeros = xp.zeros((batch, 1, self.hidden_size), dtype=dtops.dtype)
        # forward top layer at t = 0 .. L-2 predicted; at L-1 (after <eos>) nothing was predicted
        dtop = {"forward": xp.concatenate([dtops[:batch], zeros], axis=1),
                "backward": xp.concatenate([zeros, dtops[batch:]], axis=1)}         # (B, L, H) each
        backward_fn = backend.op(f"{self.cell}_backward")
        dx = None
        for direction in DIRECTIONS:
            dh = dtop[direction] if direction == "forward" else reverse_sequences(dtop[direction], lengths)
            for layer in reversed(range(self.num_layers)):
                dh, _, dparams = backward_fn(dh, None, cell_caches[direction][layer])
                for name in CELL_PARAM_NAMES:
                    grads[f"{direction}.rnn.{name}_l{layer}"] = dparams[name]
            dx_direction = dh if direction == "forward" else reverse_sequences(dh, lengths)
            dx = dx_direction if dx is None else dx + dx_direction
        grads["embedding.weight"] = backend.op("embedding_backward")(dx, embedding_cache)
        return loss, {name: grads[name] for name in self.params}

    def loss(self, sequences, lengths=None):
        """The loss of :meth:`loss_and_grads`, without gradients."""
        return self._loss(sequences, lengths)[0]

    def direction_losses(self, sequences, lengths=None):
        """(forward LM's, backward LM's) mean NLL per predicted token: exp of each is its perplexity."""
        sequences, lengths, mask = self._check(sequences, lengths)
        _, outputs, _ = self._stacks(sequences, lengths)
        losses = []
        for direction, top, targets in (("forward", outputs["forward"][-1][:, :-1], sequences[:, 1:]),
                                        ("backward", outputs["backward"][-1][:, 1:], sequences[:, :-1])):
            logits, _ = backend.op("linear_forward")(top, self.params["decoder.weight"], self.params["decoder.bias"])
            losses.append(backend.op("softmax_cross_entropy_forward")(logits, backend.asarray(targets), backend.asarray(mask))[0])
        return tuple(losses)

    def representations(self, sequences, lengths=None):
        """ELMo's layers for every token: [x_t] and [->h^k_t ; <-h^k_t] for k = 1 .. K.

        Returns a list of K + 1 arrays: (B, L, E), then K arrays (B, L, 2H).
        """
        sequences, lengths, _ = self._check(sequences, lengths)
        x, outputs, _ = self._stacks(sequences, lengths)
        xp = backend.xp()
        return [x] + [xp.concatenate([forward, backward], axis=-1)
                      for forward, backward in zip(outputs["forward"], outputs["backward"])]

    def _loss(self, sequences, lengths):
        sequences, lengths, mask = self._check(sequences, lengths)
        _, outputs, caches = self._stacks(sequences, lengths)
        xp = backend.xp()
        batch = sequences.shape[0]
        # both directions through the one shared softmax: the forward LM's states at 0 .. L-2
        # predict s_1 .. s_{L-1}; the backward LM's states at 1 .. L-1 predict s_0 .. s_{L-2}
        tops = xp.concatenate([outputs["forward"][-1][:, :-1], outputs["backward"][-1][:, 1:]], axis=0)   # (2B, L-1, H)
        targets = np.concatenate([sequences[:, 1:], sequences[:, :-1]], axis=0)
        logits, decoder_cache = backend.op("linear_forward")(tops, self.params["decoder.weight"], self.params["decoder.bias"])
        loss, loss_cache = backend.op("softmax_cross_entropy_forward")(logits, backend.asarray(targets),
                                                         backend.asarray(np.concatenate([mask, mask], axis=0)))
        return float(loss), (loss_cache, decoder_cache, caches, lengths, batch)

    def _check(self, sequences, lengths):
        """sequences as NumPy ids, lengths (None or a checked array), and the mask of predicted positions."""
        sequences = backend.asnumpy(check_token_ids(sequences, "sequences", vocab_size=self.vocab_size, ndim=2))
        batch, time = sequences.shape
        if time < 2:
            raise ValueError(f"sequences must hold at least <bos> and <eos> (2 steps), got {time}")
        if lengths is not None:
            lengths = np.asarray(backend.asnumpy(lengths))
            if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
                raise ValueError(f"lengths must be an int array of shape ({batch},), got {lengths.dtype} {lengths.shape}")
            if lengths.min() < 2 or lengths.max() > time:
                raise ValueError(f"lengths must lie in 2..{time} (<bos> and <eos> at least), got {lengths.min()}..{lengths.max()}")
        real = lengths if lengths is not None else np.full(batch, time)
        mask = np.arange(time - 1)[None, :] < (real - 1)[:, None]       # (B, L-1): predictions made
        return sequences, lengths, mask
