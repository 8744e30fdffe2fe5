"""Fixed-window neural language model (Bengio, Ducharme, Vincent and Jauvin, 2003).

The model reads the last n tokens (the *window*), looks up an embedding for each, concatenates
them, and predicts the next token through one tanh hidden layer; optionally the concatenated
embeddings also reach the output directly (the paper's "direct connections", W)::

    x_t = [C[w_{t-n+1}] ; ... ; C[w_t]]                 (n*E,)   embeddings of the window
    a_t = H x_t + d                                     (H,)     hidden pre-activation
    z_t = tanh(a_t)
    y_t = U z_t + b  (+ W x_t  with direct connections) (V,)     logits
    P(w_{t+1} | w_{t-n+1..t}) = softmax(y_t)

Like an (n+1)-gram model it sees exactly n tokens of context, but it shares statistical strength
between similar contexts through the embeddings instead of counting each context apart. Before
the start of a text the window is filled with ``<bos>``.

Parameters (PyTorch-style names; the gradients of :meth:`WindowLM.loss_and_grads` use the same)::

    embedding.weight (V, E)   C
    hidden.weight (H, n*E)    H         hidden.bias (H,)    d
    decoder.weight (V, H)     U         decoder.bias (V,)   b
    direct.weight (V, n*E)    W         (only with direct=True)

Training goes through the same loop as the RNN LM: ``loss_and_grads(inputs, targets, state)``
returns the mean NLL per predicted token and the gradients, and its ``state`` is the n-1 tokens
that precede the next batch's first input (so windows cross the boundary between two
consecutive batches of a stream, as an RNN's hidden state does).
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers.softmax_cross_entropy import log_softmax
from scratchlm.lm import LanguageModel
from scratchlm.models.parameters import ParameterDictModel
from scratchlm.checks import check_mask, check_shape, check_token_ids


class WindowLM(ParameterDictModel, LanguageModel):
    """Bengio et al.'s fixed-window neural language model.

    Args:
        vocab_size: V.
        context_size: n, the number of tokens in the window (n=2 sees as much as a trigram).
        embed_dim: E, the size of each token's embedding.
        hidden_size: H, the width of the tanh layer.
        direct: add the direct input-to-output connections W.
        seed: seed of the parameter initialisation.
        dtype: float dtype of the parameters (float32 for training, float64 for gradient checks).
        bos_id, eos_id: the ids of <bos> and <eos> (those of scratchlm.text.Vocabulary by default).
    """

    def __init__(self, vocab_size, context_size=3, embed_dim=16, hidden_size=64, direct=False,
                 seed=0, dtype="float32", bos_id=2, eos_id=3):
        for name, value in (("vocab_size", vocab_size), ("context_size", context_size),
                            ("embed_dim", embed_dim), ("hidden_size", hidden_size)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 <= bos_id < vocab_size:
            raise ValueError(f"bos_id {bos_id} is outside the vocabulary (0..{vocab_size - 1})")
        self.vocab_size = int(vocab_size)
        self.context_size = int(context_size)
        self.embed_dim = int(embed_dim)
        self.hidden_size = int(hidden_size)
        self.direct = bool(direct)
        self.bos_id, self.eos_id = bos_id, eos_id
        self.dtype = np.dtype(dtype)
        self.training = True
        self.seed = seed
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        """The constructor arguments as a JSON-able dict; ``WindowLM.from_config(model.config())`` rebuilds the model."""
        return {
            "vocab_size": self.vocab_size, "context_size": self.context_size, "embed_dim": self.embed_dim,
            "hidden_size": self.hidden_size, "direct": self.direct, "seed": self.seed, "dtype": self.dtype.name,
            "bos_id": int(self.bos_id), "eos_id": None if self.eos_id is None else int(self.eos_id),
        }

    @classmethod
    def from_config(cls, config):
        """A freshly initialised model with the architecture described by ``config`` (see :meth:`config`)."""
        return cls(**config)

    def _init_params(self, rng):
        """PyTorch's defaults: embeddings N(0, 1); a linear map U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        V, E, H, n = self.vocab_size, self.embed_dim, self.hidden_size, self.context_size

        def uniform(shape, fan_in):
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=shape)

        params = {
            "embedding.weight": rng.standard_normal((V, E)),
            "hidden.weight": uniform((H, n * E), n * E),
            "hidden.bias": uniform((H,), n * E),
            "decoder.weight": uniform((V, H), H),
            "decoder.bias": uniform((V,), H),
        }
        if self.direct:
            params["direct.weight"] = uniform((V, n * E), n * E)
        return {name: backend.asarray(value.astype(self.dtype)) for name, value in params.items()}

    # ---- training ------------------------------------------------------------------------

    def initial_state(self, batch_size):
        """The n-1 tokens before a text's first input: all <bos>, shape (B, n-1)."""
        return np.full((batch_size, self.context_size - 1), self.bos_id, dtype=np.int64)

    def windows(self, inputs, state=None):
        """The window ending at every input position, and the state for the next batch.

        inputs (B, T) int; state (B, n-1) int or None (<bos>). Returns windows (B, T, n) with
        windows[b, t] = the n tokens ending at inputs[b, t], and next_state (B, n-1).
        """
        inputs = self._check_ids(inputs, "inputs")
        batch, time = inputs.shape
        n = self.context_size
        if state is None:
            state = self.initial_state(batch)
        state = backend.asnumpy(check_token_ids(state, "state", vocab_size=self.vocab_size, ndim=2, allow_empty=True))
        check_shape(state, "state", (batch, n - 1), "the previous n-1 tokens, (batch, context_size - 1)")
        stream = np.concatenate([state, inputs], axis=1)                  # (B, n-1+T)
        positions = np.arange(time)[:, None] + np.arange(n)[None, :]      # (T, n)
        return stream[:, positions], stream[:, time:]

    def forward(self, inputs, state=None):
        """Logits for the token after every input position.

        inputs (B, T) int, state (B, n-1) int or None. Returns logits (B, T, V) and the next state.
        """
        windows, next_state = self.windows(inputs, state)
        logits, _ = self._forward_windows(windows)
        return logits, next_state

    def loss(self, inputs, targets, state=None, mask=None):
        """The mean NLL per unmasked target token, without gradients (see :meth:`loss_and_grads`)."""
        return self._loss(inputs, targets, state, mask)[0]

    def loss_and_grads(self, inputs, targets, state=None, mask=None):
        """Mean NLL per predicted token, its gradients (keyed like params), the next state.

        inputs, targets (B, T) int (targets[b, t] is the token after inputs[b, t]); state (B, n-1)
        or None; mask (B, T) bool or None (False marks padding, neither predicted nor counted).
        """
        loss, loss_cache, cache, next_state = self._loss(inputs, targets, state, mask)
        dlogits = backend.op("softmax_cross_entropy_backward")(loss_cache)
        grads = self._backward_windows(dlogits, cache)
        return loss, grads, next_state

    def _loss(self, inputs, targets, state, mask):
        windows, next_state = self.windows(inputs, state)
        targets = check_token_ids(targets, "targets", ndim=2)
        check_shape(targets, "targets", windows.shape[:2], "the shape of inputs (batch, time)")
        if mask is not None:
            mask = check_mask(mask, "mask", windows.shape[:2])
        logits, cache = self._forward_windows(windows)
        loss, loss_cache = backend.op("softmax_cross_entropy_forward")(logits, targets, mask)
        return float(loss), loss_cache, cache, next_state

    def _forward_windows(self, windows):
        """windows (B, T, n) int -> logits (B, T, V), cache. The equations of the module docstring."""
        p = self.params
        batch, time, n = windows.shape
        ids = backend.asarray(windows.reshape(batch, time * n))
        embedded, embedding_cache = backend.op("embedding_forward")(ids, p["embedding.weight"])   # (B, T*n, E)
        x = embedded.reshape(batch, time, n * self.embed_dim)                      # (B, T, n*E)
        a, hidden_cache = backend.op("linear_forward")(x, p["hidden.weight"], p["hidden.bias"])  # (B, T, H)
        z = backend.xp().tanh(a)
        logits, decoder_cache = backend.op("linear_forward")(z, p["decoder.weight"], p["decoder.bias"])   # (B, T, V)
        direct_cache = None
        if self.direct:
            direct_logits, direct_cache = backend.op("linear_forward")(x, p["direct.weight"], None)
            logits = logits + direct_logits
        return logits, (embedding_cache, hidden_cache, z, decoder_cache, direct_cache)

    def _backward_windows(self, dlogits, cache):
        """dlogits (B, T, V) -> grads of every parameter."""
        embedding_cache, hidden_cache, z, decoder_cache, direct_cache = cache
        grads = {}
        dz, grads["decoder.weight"], grads["decoder.bias"] = backend.op("linear_backward")(dlogits, decoder_cache)
        da = dz * (1.0 - z * z)                                  # tanh'(a) = 1 - tanh(a)^2
        dx, grads["hidden.weight"], grads["hidden.bias"] = backend.op("linear_backward")(da, hidden_cache)
        if self.direct:
            dx_direct, grads["direct.weight"], _ = backend.op("linear_backward")(dlogits, direct_cache)
            dx = dx + dx_direct                                   # x feeds both paths: gradients add
        batch, time, _ = dx.shape
        dembedded = dx.reshape(batch, time * self.context_size, self.embed_dim)
        grads["embedding.weight"] = backend.op("embedding_backward")(dembedded, embedding_cache)
        return grads

    # ---- the LanguageModel interface -----------------------------------------------------
    # The state of a context is its last n tokens (B, n) int, <bos>-filled at the start.

    def start(self, batch_size):
        return np.full((batch_size, self.context_size), self.bos_id, dtype=np.int64)

    def log_probs(self, state):
        logits, _ = self._forward_windows(np.asarray(state)[:, None, :])
        return np.asarray(backend.asnumpy(log_softmax(logits[:, 0])), dtype=np.float64)

    def advance(self, state, tokens):
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1, 1)
        return np.concatenate([np.asarray(state)[:, 1:], tokens], axis=1)

    def select(self, state, rows):
        return np.asarray(state)[np.asarray(rows)]

    def sequence_log_probs(self, sequence):
        """All positions in one forward pass: the window of target t ends at the token before it."""
        tokens = self._check_ids(np.asarray(sequence).reshape(1, -1), "sequence")
        inputs = np.concatenate([[[self.bos_id]], tokens[:, :-1]], axis=1)   # <bos> w_1 .. w_{T-1}
        logits, _ = self.forward(inputs)
        logp = np.asarray(backend.asnumpy(log_softmax(logits[0])), dtype=np.float64)   # (T, V)
        return logp[np.arange(tokens.shape[1]), tokens[0]]

    def _check_ids(self, ids, name):
        """``ids`` checked (2-D, integer, inside the vocabulary) and returned as a NumPy array."""
        return backend.asnumpy(check_token_ids(ids, name, vocab_size=self.vocab_size, ndim=2))
