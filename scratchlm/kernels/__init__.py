"""Fast versions of layer internals, one module per backend.

Each module exposes ``KERNELS``, a dict from an operation's name to a function with exactly the
signature and results of the NumPy reference it replaces (the reference lives in
``scratchlm/layers``). :func:`scratchlm.backend.kernel` picks the active backend's entry, and
``tests/test_kernels.py`` checks every entry against its reference.

The seams (op name -> reference function, its arguments and results). B batch, H hidden size,
N rows, V vocabulary size, E embedding size. A kernel must not modify its inputs and must return
new arrays; dtypes follow the inputs. The two LSTM gate ops also take ``out=``, a tuple of arrays
shaped like their results (not overlapping the inputs), and then write into those and return them:
lstm_forward and lstm_backward pass slices of their time-major buffers, which saves copying
every result at every step (scratchlm/layers/results.py).

==============================  ===========================================================================
op name                         reference, arguments -> results
==============================  ===========================================================================
"embedding_scatter_add"         layers.embedding.embedding_scatter_add(ids (N,) int, dout (N, E),
                                num_embeddings V) -> dweight (V, E), repeated ids accumulate
"softmax_cross_entropy_forward" layers.softmax_cross_entropy.cross_entropy_rows_forward(
                                logits (N, V), targets (N,) int) -> (nll (N,), probs (N, V))
"softmax_cross_entropy_backward" layers.softmax_cross_entropy.cross_entropy_rows_backward(
                                probs (N, V), targets (N,) int, row_weights (N,))
                                -> dlogits (N, V) = row_weights[:, None] * (probs - onehot(targets))
"rnn_gates_forward"             layers.rnn.rnn_gates_forward(a (B, H)) -> h (B, H) = tanh(a)
"rnn_gates_backward"            layers.rnn.rnn_gates_backward(dh (B, H), h (B, H)) -> da (B, H)
"lstm_gates_forward"            layers.lstm.lstm_gates_forward(a (B, 4H), c_prev (B, H), out=None)
                                -> (h (B, H), c (B, H), gates (B, 4H) = [i, f, g, o], tanh_c (B, H))
"lstm_gates_backward"           layers.lstm.lstm_gates_backward(dh (B, H), dc (B, H), c_prev (B, H),
                                gates (B, 4H), tanh_c (B, H), out=None) -> (da (B, 4H), dc_prev (B, H))
"gru_gates_forward"             layers.gru.gru_gates_forward(ax (B, 3H), ah (B, 3H), h_prev (B, H))
                                -> (h (B, H), gates (B, 3H) = [r, z, n])
"gru_gates_backward"            layers.gru.gru_gates_backward(dh (B, H), h_prev (B, H), gates (B, 3H),
                                ah_n (B, H)) -> (dax (B, 3H), dah (B, 3H), dh_prev_direct (B, H))
"step_matmul_prepare"           layers.step_matmul.step_matmul_prepare(weight (K, N)) -> prepared, an
                                object only the same backend's "step_matmul" reads (once per sequence)
"step_matmul"                   layers.step_matmul.step_matmul(x (B, K), prepared, out (B, N)) -> out,
                                out = x @ weight (every step: h W_hh^T forward, da W_hh backward)
"sgd_update"                    train.optimizers.sgd_update(param, grad, lr) -> None; param -= lr * grad
                                in place (the one seam that changes an input)
==============================  ===========================================================================

Which backend replaces what: ``numba_ops`` registers every op above, each the fastest of its
Numba versions and the NumPy reference, measured on the machine it runs on for the dtype and
shape at hand (``chooser.py``; the forward gates also have a version with a vectorising rational
tanh, ``rational_tanh.py``); its "step_matmul" pair runs BLAS or an inner kernel of its own on the
weight packed once per sequence (``packed_matmul.py``), whichever measured faster. ``cupy_ops`` registers the
pointwise ops and leaves the products to CuPy's ``matmul`` (cuBLAS). Measurements and the
reasons behind each choice are in docs/benchmarks.md.

Inside the sequence functions the per-step arguments are slices of time-major buffers
(``buffer[t]``, C-contiguous (B, .) blocks); ``a`` already includes both biases for the RNN
and LSTM (for the GRU ``ax`` holds b_ih and ``ah`` holds b_hh). The equations of each op are in
the docstring of its reference.
"""
