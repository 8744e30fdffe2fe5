"""Encoder-decoder (sequence to sequence) model: Sutskever, Vinyals and Le (2014), without attention.

An encoder RNN reads the source x_1..x_S; its final state is the only thing the decoder learns
about the source. A decoder RNN, started from that state, is a language model of the target::

    encoder:  s_t = cell_enc(E_src[x_t], s_{t-1}),  s_0 = 0          t = 1 .. S
    decoder:  h_0 = s_S
              h_t = cell_dec(E_tgt[y_{t-1}], h_{t-1}),  y_0 = <bos>   t = 1 .. T
              P(y_t | y_<t, x) = softmax(W_out h_t + b_out)
    loss = - (1/N) sum_t log P(y_t | y_<t, x)      over the N unmasked target tokens (<eos> counts)

*Teacher forcing*: in training the decoder reads the true previous target token y_{t-1}, not its
own prediction, so all T steps run as one sequence call and the loss has a plain gradient. At
test time the decoder reads its own predictions: :meth:`Seq2Seq.decoder` wraps it as a
:class:`scratchlm.lm.LanguageModel` conditioned on one source, so greedy decoding, sampling
(:func:`scratchlm.sampling.generate`) and beam search (:func:`scratchlm.beam.beam_search`) are
the same code that generates from any language model.

The gradient reaches the encoder only through h_0 = s_S: the decoder's backward pass returns
dh_0, which enters the encoder's backward pass as the gradient of its final state.

The encoder reads no padding (padding would run through its recurrence and change s_S), so the
sources of one batch share a length; :func:`scratchlm.data.tasks.batches_by_source_length` groups
them. Targets may be right-padded and masked: padding comes after every real target token, so it
never influences them.

Parameters (PyTorch-style names)::

    encoder.embedding.weight (V_src, E)
    encoder.rnn.weight_ih_l0 (G*H, E), encoder.rnn.weight_hh_l0 (G*H, H), encoder.rnn.bias_ih_l0, encoder.rnn.bias_hh_l0
    decoder.embedding.weight (V_tgt, E)
    decoder.rnn.weight_ih_l0 ... decoder.rnn.bias_hh_l0                  (as the encoder's)
    decoder.output.weight (V_tgt, H), decoder.output.bias (V_tgt,)
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS
from scratchlm.layers.softmax_cross_entropy import log_softmax
from scratchlm.lm import LanguageModel
from scratchlm.models.parameters import ParameterDictModel

CELL_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class Seq2Seq(ParameterDictModel):
    """An RNN encoder whose final state starts an RNN decoder language model.

    Args:
        source_vocab_size, target_vocab_size: V_src and V_tgt (one vocabulary may serve both).
        embed_dim: E, for the source and the target embeddings.
        hidden_size: H, shared by encoder and decoder (the encoder's state becomes the decoder's).
        cell: "rnn", "lstm" or "gru", for both.
        seed: seed of the initialisation; dtype: float dtype of the parameters.
        bos_id, eos_id: target ids of <bos> (fed first, never predicted) and <eos>.
    """

    def __init__(self, source_vocab_size, target_vocab_size, embed_dim=32, hidden_size=64, cell="lstm",
                 seed=0, dtype="float32", bos_id=2, eos_id=3):
        for name, value in (("source_vocab_size", source_vocab_size), ("target_vocab_size", target_vocab_size),
                            ("embed_dim", embed_dim), ("hidden_size", hidden_size)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: expected one of {', '.join(CELLS)}")
        self.source_vocab_size = int(source_vocab_size)
        self.target_vocab_size = int(target_vocab_size)
        self.embed_dim, self.hidden_size, self.cell = int(embed_dim), int(hidden_size), cell
        self.bos_id, self.eos_id = bos_id, eos_id
        self.dtype = np.dtype(dtype)
        self.training = True
        self.params = self._init_params(np.random.default_rng(seed))

    def _init_params(self, rng):
        """PyTorch's defaults: embeddings N(0, 1), recurrent and output weights U(-1/sqrt(H), 1/sqrt(H))."""
        E, H, G = self.embed_dim, self.hidden_size, CELLS[self.cell].num_gates
        bound = 1.0 / np.sqrt(H)
        params = {
            "encoder.embedding.weight": rng.standard_normal((self.source_vocab_size, E)),
            "decoder.embedding.weight": rng.standard_normal((self.target_vocab_size, E)),
        }
        for side in ("encoder", "decoder"):
            shapes = {"weight_ih": (G * H, E), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
            for name, shape in shapes.items():
                params[f"{side}.rnn.{name}_l0"] = rng.uniform(-bound, bound, size=shape)
        params["decoder.output.weight"] = rng.uniform(-bound, bound, size=(self.target_vocab_size, H))
        params["decoder.output.bias"] = rng.uniform(-bound, bound, size=(self.target_vocab_size,))
        return {name: backend.asarray(value.astype(self.dtype)) for name, value in params.items()}

    def _cell_params(self, side):
        return {name: self.params[f"{side}.rnn.{name}_l0"] for name in CELL_PARAM_NAMES}

    # ---- forward and backward ------------------------------------------------------------

    def encode(self, source):
        """source (B, S) int -> the encoder's final state s_S (h, or (h, c) for lstm) and a cache."""
        source = self._check_ids(source, "source", self.source_vocab_size)
        embedded, embedding_cache = backend.op("embedding_forward")(backend.asarray(source), self.params["encoder.embedding.weight"])
        _, final_state, rnn_cache = backend.op(f"{self.cell}_forward")(embedded, None, self._cell_params("encoder"))
        return final_state, (embedding_cache, rnn_cache)

    def teacher_forcing_inputs(self, target):
        """The decoder's inputs under teacher forcing: <bos> y_1 .. y_{T-1} (B, T)."""
        bos = np.full((target.shape[0], 1), self.bos_id, dtype=np.int64)
        return np.concatenate([bos, target[:, :-1]], axis=1)

    def forward(self, source, target):
        """Logits (B, T, V_tgt) of every target position under teacher forcing.

        source (B, S) int; target (B, T) int, the reference output (ending in <eos>).
        """
        logits, _ = self._forward(source, target)
        return logits

    def _forward(self, source, target):
        target = self._check_ids(target, "target", self.target_vocab_size)
        initial_state, encoder_cache = self.encode(source)
        if target.shape[0] != _batch_size(initial_state):
            raise ValueError(f"source and target must have the same batch size, got "
                             f"{_batch_size(initial_state)} and {target.shape[0]}")
        decoder_inputs = backend.asarray(self.teacher_forcing_inputs(target))
        embedded, embedding_cache = backend.op("embedding_forward")(decoder_inputs, self.params["decoder.embedding.weight"])
        hs, _, rnn_cache = backend.op(f"{self.cell}_forward")(embedded, initial_state, self._cell_params("decoder"))  # (B, T, H)
        logits, output_cache = backend.op("linear_forward")(hs, self.params["decoder.output.weight"], self.params["decoder.output.bias"])
        return logits, (encoder_cache, embedding_cache, rnn_cache, output_cache)

    def loss_and_grads(self, source, target, mask=None):
        """Mean NLL per unmasked target token, and its gradients keyed like :attr:`params`.

        source (B, S) int; target (B, T) int ending in <eos>, right-padded; mask (B, T) bool or
        None (all tokens count). Returns (loss, grads).
        """
        source = self._check_ids(source, "source", self.source_vocab_size)
        logits, cache = self._forward(source, target)
        encoder_cache, embedding_cache, rnn_cache, output_cache = cache
        if mask is not None:
            mask = backend.asarray(mask)
        loss, loss_cache = backend.op("softmax_cross_entropy_forward")(logits, backend.asarray(target), mask)

        backward_fn = backend.op(f"{self.cell}_backward")
        grads = {}
        dlogits = backend.op("softmax_cross_entropy_backward")(loss_cache)
        dhs, grads["decoder.output.weight"], grads["decoder.output.bias"] = backend.op("linear_backward")(dlogits, output_cache)
        dembedded, dinitial_state, dparams = backward_fn(dhs, None, rnn_cache)
        grads["decoder.embedding.weight"] = backend.op("embedding_backward")(dembedded, embedding_cache)
        for name in CELL_PARAM_NAMES:
            grads[f"decoder.rnn.{name}_l0"] = dparams[name]

        # The encoder's outputs are unused: its only gradient is that of its final state.
        source_embedding_cache, source_rnn_cache = encoder_cache
        source_length = source.shape[1]
        dsource_hs = backend.xp().zeros((target.shape[0], source_length, self.hidden_size), dtype=dlogits.dtype)
        dsource_embedded, _, dparams = backward_fn(dsource_hs, dinitial_state, source_rnn_cache)
        grads["encoder.embedding.weight"] = backend.op("embedding_backward")(dsource_embedded, source_embedding_cache)
        for name in CELL_PARAM_NAMES:
            grads[f"encoder.rnn.{name}_l0"] = dparams[name]
        return float(loss), grads

    # ---- generation ----------------------------------------------------------------------

    def decoder(self, source):
        """The decoder conditioned on one source (S,) int, as a :class:`scratchlm.lm.LanguageModel`."""
        return ConditionedDecoder(self, source)

    # ---- input checks --------------------------------------------------------------------

    @staticmethod
    def _check_ids(ids, name, vocab_size):
        ids = np.asarray(backend.asnumpy(ids))
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer) or ids.shape[1] < 1:
            raise ValueError(f"{name} must be a 2-D int array of token ids (batch, time >= 1), got {ids.dtype} {ids.shape}")
        if ids.min() < 0 or ids.max() >= vocab_size:
            raise ValueError(f"{name} holds ids outside its vocabulary 0..{vocab_size - 1}")
        return ids


def _batch_size(state):
    """The batch size of a recurrent state: h (B, H), or (h, c) for an LSTM."""
    return (state[0] if isinstance(state, tuple) else state).shape[0]


class ConditionedDecoder(LanguageModel):
    """A :class:`Seq2Seq` decoder as a language model of the target, given one source.

    Its state is the decoder's recurrent state *after* reading the last token (h, or (h, c)), so
    ``start`` encodes the source and feeds <bos>; ``log_probs`` is softmax(W_out h + b_out).
    """

    def __init__(self, model: Seq2Seq, source):
        source = np.asarray(backend.asnumpy(source))
        if source.ndim != 1:
            raise ValueError(f"source must be one sequence of ids (S,), got shape {source.shape}")
        self.model = model
        self.vocab_size = model.target_vocab_size
        self.bos_id, self.eos_id = model.bos_id, model.eos_id
        self.encoded, _ = model.encode(source[None, :])

    def start(self, batch_size):
        state = self.select(self.encoded, np.zeros(batch_size, dtype=np.int64))
        return self.advance(state, np.full(batch_size, self.bos_id, dtype=np.int64))

    def log_probs(self, state):
        h = state[0] if isinstance(state, tuple) else state
        logits, _ = backend.op("linear_forward")(h, self.model.params["decoder.output.weight"], self.model.params["decoder.output.bias"])
        return np.asarray(backend.asnumpy(log_softmax(logits)), dtype=np.float64)

    def advance(self, state, tokens):
        ids = backend.asarray(np.asarray(tokens, dtype=np.int64).reshape(-1, 1))
        embedded, _ = backend.op("embedding_forward")(ids, self.model.params["decoder.embedding.weight"])   # (B, 1, E)
        step_forward = CELLS[self.model.cell].step_forward
        new_state, _ = step_forward(embedded[:, 0], state, self.model._cell_params("decoder"))
        return new_state

    def select(self, state, rows):
        rows = backend.asarray(np.asarray(rows, dtype=np.int64))
        if isinstance(state, tuple):
            return tuple(part[rows] for part in state)
        return state[rows]
