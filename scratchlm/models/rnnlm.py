"""RNNLM: embedding -> stacked Elman RNN / LSTM / GRU -> linear decoder over the vocabulary.

For input ids w_1 .. w_T (each row of a batch) and L recurrent layers:

    x_t^0 = dropout(E[w_t])                                   (E)    embedding, E (V, E)
    h_t^l = cell(x_t^{l-1}, h_{t-1}^l),  x_t^l = dropout(h_t^l)  (H)    l = 1 .. L
    z_t   = W_dec x_t^L + b_dec                                (V)    logits for w_{t+1}
    loss  = mean over unmasked t of -log softmax(z_t)[target_t]

Dropout sits where pytorch/examples' word_language_model puts it: on the embedding output,
between stacked layers, and before the decoder; it is active only in training mode and draws its
masks from the model's own seeded stream (``model.dropout_rng``). With ``tie_weights=True`` the
decoder reuses the embedding matrix (W_dec = E, Press & Wolf 2017), which needs E == H.

Parameters live in ``model.params``, a dict named like PyTorch's state_dict (``embedding.weight``,
``rnn.weight_ih_l0``, ``rnn.weight_hh_l0``, ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0``, ...,
``decoder.weight``, ``decoder.bias``). With tied weights the shared matrix appears once, as
``embedding.weight``; :meth:`RNNLM.state_dict` lists it under both names, as PyTorch does.

The recurrent state is h of shape (L, B, H) for "rnn" and "gru" and the pair (h, c) for "lstm",
exactly as nn.RNN / nn.GRU / nn.LSTM take and return it.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS
from scratchlm.layers.softmax_cross_entropy import log_softmax
from scratchlm.lm import LanguageModel
from scratchlm.models.parameters import ParameterDictModel
from scratchlm.checks import (
    CELL_PARAM_NAMES,
    as_array,
    check_finite,
    check_float_array,
    check_mask,
    check_shape,
    check_token_ids,
)


class RNNLMState(NamedTuple):
    """The LanguageModel state of an RNNLM: the recurrent state and the next-token distribution.

    hidden: h (L, B, H) for rnn / gru, the pair (h, c) for lstm.
    log_probs: (B, V) NumPy float64, log P(next token | context) for each row.
    """

    hidden: Any
    log_probs: np.ndarray


class RNNLM(ParameterDictModel, LanguageModel):
    """A recurrent neural language model with hand-written forward and backward passes.

    Args:
        vocab_size: V, the number of token ids.
        embed_dim: E, the embedding size.
        hidden_size: H, the size of every recurrent layer.
        num_layers: L, stacked recurrent layers.
        cell: "rnn" (Elman, tanh), "lstm" or "gru".
        dropout: drop probability on the embeddings, between layers and before the decoder.
        tie_weights: share the embedding matrix with the decoder (needs embed_dim == hidden_size).
        seed: seeds both the initial parameters and the dropout stream.
        dtype: "float32" for training, "float64" for gradient checks.
        init_range: None for PyTorch's default initialisation (embedding N(0, 1), every other
            weight and bias U(-1/sqrt(H), 1/sqrt(H))); a float r draws every parameter from
            U(-r, r), as in Zaremba et al. (2014).
        bos_id, eos_id: the LanguageModel attributes (see :mod:`scratchlm.lm`).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
        tie_weights: bool = False,
        seed: int = 0,
        dtype: str = "float32",
        init_range: float | None = None,
        bos_id: int | None = None,
        eos_id: int | None = None,
    ):
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if tie_weights and embed_dim != hidden_size:
            raise ValueError(
                f"tie_weights needs embed_dim == hidden_size (the decoder reuses the (V, E) embedding "
                f"as its (V, H) weight), got embed_dim={embed_dim}, hidden_size={hidden_size}"
            )
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"dtype must be a floating-point type such as 'float32' or 'float64', got {dtype!r}")
        if init_range is not None and not init_range > 0:
            raise ValueError(f"init_range must be None (PyTorch's default) or a positive float, got {init_range!r}")

        self.vocab_size = int(vocab_size)
        self.embed_dim = int(embed_dim)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.cell = cell
        self.dropout = float(dropout)
        self.tie_weights = bool(tie_weights)
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self.init_range = None if init_range is None else float(init_range)
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.training = True
        self._cell = CELLS[cell]

        init_seed, dropout_seed = np.random.SeedSequence(self.seed).spawn(2)
        self.params = self._initial_params(np.random.default_rng(init_seed))
        self.dropout_rng = np.random.default_rng(dropout_seed)

    # ----------------------------------------------------------------- construction and I/O
    def _initial_params(self, rng) -> dict:
        V, E, H, G = self.vocab_size, self.embed_dim, self.hidden_size, self._cell.num_gates
        bound = 1.0 / math.sqrt(H)  # PyTorch's default for recurrent and linear layers with H inputs

        def uniform(shape, r=bound):
            return rng.uniform(-r, r, size=shape)

        r = self.init_range
        shapes = {"embedding.weight": (V, E)}
        for layer in range(self.num_layers):
            input_size = E if layer == 0 else H
            shapes[f"rnn.weight_ih_l{layer}"] = (G * H, input_size)
            shapes[f"rnn.weight_hh_l{layer}"] = (G * H, H)
            shapes[f"rnn.bias_ih_l{layer}"] = (G * H,)
            shapes[f"rnn.bias_hh_l{layer}"] = (G * H,)
        if not self.tie_weights:
            shapes["decoder.weight"] = (V, H)
        shapes["decoder.bias"] = (V,)

        params = {}
        for name, shape in shapes.items():
            if r is not None:
                values = uniform(shape, r)
            elif name == "embedding.weight":
                values = rng.standard_normal(shape)  # nn.Embedding's default
            else:
                values = uniform(shape)
            params[name] = backend.asarray(values, dtype=self.dtype)
        return params

    def config(self) -> dict:
        """The constructor arguments as a JSON-able dict; ``RNNLM.from_config(model.config())`` rebuilds the model."""
        return {
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "cell": self.cell,
            "dropout": self.dropout,
            "tie_weights": self.tie_weights,
            "seed": self.seed,
            "dtype": self.dtype.name,
            "init_range": self.init_range,
            "bos_id": None if self.bos_id is None else int(self.bos_id),
            "eos_id": None if self.eos_id is None else int(self.eos_id),
        }

    @classmethod
    def from_config(cls, config: dict) -> "RNNLM":
        """A freshly initialised model with the architecture described by ``config`` (see :meth:`config`)."""
        return cls(**config)

    # num_parameters (a tied matrix counted once), train() and eval() come from ParameterDictModel;
    # saving and loading are its own, because they speak PyTorch's names, tied weights included.
    def state_dict(self) -> dict:
        """Name -> array, with PyTorch's names; a tied matrix appears as both embedding.weight and decoder.weight.

        The arrays are the model's own (not copies), as in PyTorch.
        """
        state = {}
        for name, value in self.params.items():
            if name == "decoder.bias" and self.tie_weights:
                state["decoder.weight"] = self.params["embedding.weight"]
            state[name] = value
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Copy the arrays of ``state_dict`` (PyTorch names, e.g. from ``torch_model.state_dict()``) into the model.

        Shapes must match exactly; values are cast to the model's dtype. With tied weights,
        ``decoder.weight`` may be left out; if given, it must equal ``embedding.weight``.
        Raises ValueError naming missing, unexpected or mis-shaped entries, and non-finite values.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a dict of name -> array, got {type(state_dict).__name__}")
        expected = self.state_dict()
        optional = {"decoder.weight"} if self.tie_weights else set()
        missing = [name for name in expected if name not in state_dict and name not in optional]
        unexpected = [name for name in state_dict if name not in expected]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected keys: {', '.join(unexpected)}")
            raise ValueError(f"state_dict does not fit this {self.cell} RNNLM ({'; '.join(parts)}); expected keys: {', '.join(expected)}")
        arrays = {}
        for name in state_dict:
            value = check_float_array(as_array(state_dict[name], name), name)
            check_shape(value, name, tuple(expected[name].shape))
            check_finite(value, name)
            arrays[name] = value
        if self.tie_weights and "decoder.weight" in arrays:
            if not bool((arrays["decoder.weight"] == arrays["embedding.weight"]).all()):
                raise ValueError("this model ties its weights, but the state_dict's decoder.weight differs from embedding.weight")
            del arrays["decoder.weight"]
        for name, value in arrays.items():
            self.params[name][...] = value  # in place, so references held by an optimizer stay valid

    def seed_dropout(self, seed: int) -> None:
        """Restart the dropout stream from ``seed`` (two runs after the same seed draw the same masks)."""
        self.dropout_rng = np.random.default_rng(seed)

    # ----------------------------------------------------------------- state helpers
    def zero_state(self, batch_size: int):
        """The all-zero state for ``batch_size`` rows: h (L, B, H), or (h, c) for lstm."""
        xp = backend.xp()
        shape = (self.num_layers, batch_size, self.hidden_size)
        if self.cell == "lstm":
            return xp.zeros(shape, dtype=self.dtype), xp.zeros(shape, dtype=self.dtype)
        return xp.zeros(shape, dtype=self.dtype)

    def _check_state(self, state, batch: int):
        """Validate a user-supplied state and return it as a list of per-layer cell states."""
        if state is None:
            return [None] * self.num_layers
        layout = "(num_layers, batch, hidden_size)"
        if self.cell == "lstm":
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise TypeError(f"an lstm RNNLM's state must be the pair (h, c), each {layout}, or None; got {type(state).__name__}")
            h, c = (self._check_state_array(part, f"state {name}", batch) for name, part in zip("hc", state))
            return [(h[layer], c[layer]) for layer in range(self.num_layers)]
        if isinstance(state, (tuple, list)):
            raise TypeError(f"a {self.cell} RNNLM's state is a single array h {layout}, not a {type(state).__name__} (that is the lstm layout)")
        h = self._check_state_array(state, "state", batch)
        return [h[layer] for layer in range(self.num_layers)]

    def _check_state_array(self, array, name: str, batch: int):
        array = check_float_array(as_array(array, name), name)
        check_shape(array, name, (self.num_layers, batch, self.hidden_size), "(num_layers, batch, hidden_size)")
        check_finite(array, name)
        return array.astype(self.dtype, copy=False)

    def _stack_states(self, layer_states):
        """Per-layer cell states -> the model state (h (L, B, H), or (h, c) for lstm)."""
        xp = backend.xp()
        if self.cell == "lstm":
            return xp.stack([s[0] for s in layer_states]), xp.stack([s[1] for s in layer_states])
        return xp.stack(layer_states)

    def _layer_params(self, layer: int) -> dict:
        return {key: self.params[f"rnn.{key}_l{layer}"] for key in CELL_PARAM_NAMES}

    def _decoder_weight(self):
        return self.params["embedding.weight"] if self.tie_weights else self.params["decoder.weight"]

    # ----------------------------------------------------------------- forward and backward
    def _check_inputs(self, inputs):
        return check_token_ids(inputs, "inputs", vocab_size=self.vocab_size, ndim=2)

    def _run(self, inputs, layer_states, training: bool):
        """The forward pass on validated inputs: logits (B, T, V), the new state, and the caches."""
        x, embedding_cache = backend.op("embedding_forward")(inputs, self.params["embedding.weight"])  # (B, T, E)
        x, dropout_cache = backend.op("dropout_forward")(x, self.dropout, self.dropout_rng, training)
        dropout_caches, cell_caches, final_states = [dropout_cache], [], []
        for layer in range(self.num_layers):
            x, final_state, cell_cache = backend.op(f"{self.cell}_forward")(x, layer_states[layer], self._layer_params(layer))  # (B, T, H)
            x, dropout_cache = backend.op("dropout_forward")(x, self.dropout, self.dropout_rng, training)
            dropout_caches.append(dropout_cache)
            cell_caches.append(cell_cache)
            final_states.append(final_state)
        logits, decoder_cache = backend.op("linear_forward")(x, self._decoder_weight(), self.params["decoder.bias"])  # (B, T, V)
        if not bool(backend.xp().isfinite(logits).all()):
            self._explain_non_finite_logits()
        caches = (embedding_cache, dropout_caches, cell_caches, decoder_cache)
        return logits, self._stack_states(final_states), caches

    def _explain_non_finite_logits(self):
        """Name the parameter that made the logits NaN/inf (a cheap check on the output finds it)."""
        for name, value in self.params.items():
            check_finite(value, f"parameter {name}")
        raise ValueError(
            "the logits overflowed to infinity although every parameter is finite; expected parameters of "
            "moderate size (a diverged training step? try a lower learning rate or gradient clipping)"
        )

    def forward(self, inputs, state=None):
        """Logits for every position.

        Args:
            inputs: (B, T) integer token ids.
            state: the initial state (h (L, B, H), or (h, c) for lstm), or None for zeros.

        Returns:
            logits: (B, T, V) in the model's dtype; logits[:, t] scores the token after inputs[:, t].
            state: the final state, to carry into the next window.
        """
        inputs = self._check_inputs(inputs)
        layer_states = self._check_state(state, inputs.shape[0])
        logits, final_state, _ = self._run(inputs, layer_states, self.training)
        return logits, final_state

    def _check_targets(self, inputs, targets, mask):
        targets = check_token_ids(targets, "targets", ndim=2)
        check_shape(targets, "targets", tuple(inputs.shape), "the shape of inputs (batch, time)")
        if mask is not None:
            mask = check_mask(mask, "mask", tuple(inputs.shape))
        return targets, mask

    def loss(self, inputs, targets, state=None, mask=None) -> float:
        """The mean cross-entropy in nats per unmasked target token, without gradients (see loss_and_grads)."""
        inputs = self._check_inputs(inputs)
        targets, mask = self._check_targets(inputs, targets, mask)
        layer_states = self._check_state(state, inputs.shape[0])
        logits, _, _ = self._run(inputs, layer_states, self.training)
        loss, _ = backend.op("softmax_cross_entropy_forward")(logits, targets, mask)
        return loss

    def loss_and_grads(self, inputs, targets, state=None, mask=None, state_grad=False):
        """Loss and the gradient of every parameter, by one forward and one backward pass (full BPTT).

        Args:
            inputs: (B, T) integer token ids.
            targets: (B, T) integer ids to predict (ids at masked-out positions are ignored).
            state: the initial state, or None for zeros.
            mask: (B, T) bool, True where the target is counted; None counts every target.
            state_grad: also return the gradient of the loss with respect to ``state``.

        Returns:
            loss: float, mean NLL in nats per counted target.
            grads: dict keyed like ``model.params`` (a tied matrix gets the sum of both uses).
            state: the final state, to carry into the next window.
            dstate: only when ``state_grad`` is True: the gradient w.r.t. the initial state,
                shaped like the state (zeros-state gradient when ``state`` is None).
        """
        inputs = self._check_inputs(inputs)
        targets, mask = self._check_targets(inputs, targets, mask)
        layer_states = self._check_state(state, inputs.shape[0])
        logits, final_state, caches = self._run(inputs, layer_states, self.training)
        embedding_cache, dropout_caches, cell_caches, decoder_cache = caches
        loss, loss_cache = backend.op("softmax_cross_entropy_forward")(logits, targets, mask)

        grads = {}
        dlogits = backend.op("softmax_cross_entropy_backward")(loss_cache)  # (B, T, V)
        dx, ddecoder_weight, grads["decoder.bias"] = backend.op("linear_backward")(dlogits, decoder_cache)
        dstates = [None] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            dx = backend.op("dropout_backward")(dx, dropout_caches[layer + 1])
            dx, dstates[layer], dparams = backend.op(f"{self.cell}_backward")(dx, None, cell_caches[layer])
            for key, value in dparams.items():
                grads[f"rnn.{key}_l{layer}"] = value
        dx = backend.op("dropout_backward")(dx, dropout_caches[0])
        dembedding = backend.op("embedding_backward")(dx, embedding_cache)
        if self.tie_weights:
            grads["embedding.weight"] = dembedding + ddecoder_weight
        else:
            grads["embedding.weight"] = dembedding
            grads["decoder.weight"] = ddecoder_weight
        grads = {name: grads[name] for name in self.params}
        if state_grad:
            return loss, grads, final_state, self._stack_states(dstates)
        return loss, grads, final_state

    # ----------------------------------------------------------------- the LanguageModel interface
    # These score text, so they always run without dropout, whatever the mode.
    def _next_token_state(self, tokens, layer_states) -> RNNLMState:
        logits, hidden, _ = self._run(tokens[:, None], layer_states, training=False)
        log_probs = log_softmax(logits[:, 0].astype(np.float64))
        return RNNLMState(hidden, backend.asnumpy(log_probs))

    def start(self, batch_size: int) -> RNNLMState:
        """The state after ``<bos>`` (or, when ``bos_id`` is None, the zero state with a uniform next-token distribution)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if self.bos_id is None:
            uniform = np.full((batch_size, self.vocab_size), -math.log(self.vocab_size))
            return RNNLMState(self.zero_state(batch_size), uniform)
        bos = check_token_ids(backend.xp().full((batch_size,), self.bos_id), "bos_id", vocab_size=self.vocab_size)
        return self._next_token_state(bos, [None] * self.num_layers)

    def log_probs(self, state: RNNLMState) -> np.ndarray:
        """(B, V) NumPy float64 log-probabilities of the next token."""
        return state.log_probs

    def advance(self, state: RNNLMState, tokens) -> RNNLMState:
        """Feed ``tokens`` ((B,) int ids) and return the new state."""
        batch = state.log_probs.shape[0]
        tokens = check_token_ids(tokens, "tokens", vocab_size=self.vocab_size, ndim=1)
        check_shape(tokens, "tokens", (batch,), "(batch,) with one token per row of the state")
        return self._next_token_state(tokens, self._check_state(state.hidden, batch))

    def select(self, state: RNNLMState, rows) -> RNNLMState:
        """Rows ``rows`` ((k,) int) of ``state``, in that order (repeats allowed)."""
        batch = state.log_probs.shape[0]
        rows_np = np.asarray(backend.asnumpy(rows))
        if rows_np.dtype.kind not in "iu" or rows_np.ndim != 1:
            raise TypeError(f"rows must be a 1-D array of integer row indices, got {rows_np.dtype} of shape {rows_np.shape}")
        if rows_np.size and (rows_np.min() < 0 or rows_np.max() >= batch):
            raise ValueError(f"rows must index the {batch} rows of the state, i.e. lie in [0, {batch}); got {rows_np.tolist()}")
        rows_xp = backend.asarray(rows_np)
        if self.cell == "lstm":
            hidden = (state.hidden[0][:, rows_xp], state.hidden[1][:, rows_xp])
        else:
            hidden = state.hidden[:, rows_xp]
        return RNNLMState(hidden, state.log_probs[rows_np])

    def sequence_log_probs(self, sequence) -> np.ndarray:
        """log P(w_t | w_<t) for every token of ``sequence`` ((T,) float64), in one forward pass.

        Same result as the generic step-by-step definition in :class:`scratchlm.lm.LanguageModel`:
        scored after ``<bos>`` when ``bos_id`` is set; otherwise the first token gets the uniform
        -log V and the rest are scored from the zero state.
        """
        tokens = np.asarray(sequence)
        if tokens.shape == (0,):  # an empty list arrives as float64; nothing to score either way
            return np.empty(0, dtype=np.float64)
        tokens = backend.asnumpy(check_token_ids(tokens, "sequence", vocab_size=self.vocab_size, ndim=1))
        scores = np.empty(len(tokens), dtype=np.float64)
        if self.bos_id is None:
            scores[0] = -math.log(self.vocab_size)
            inputs, targets, first = tokens[:-1], tokens[1:], 1
        else:
            inputs, targets, first = np.concatenate([[self.bos_id], tokens[:-1]]), tokens, 0
        if len(inputs) == 0:
            return scores
        inputs = check_token_ids(backend.asarray(inputs[None, :]), "sequence", vocab_size=self.vocab_size)
        logits, _, _ = self._run(inputs, [None] * self.num_layers, training=False)
        log_probs = backend.asnumpy(log_softmax(logits[0].astype(np.float64)))  # (T', V)
        scores[first:] = log_probs[np.arange(len(targets)), targets]
        return scores
