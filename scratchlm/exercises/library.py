"""The right answers, from scratchlm's own code: what every exercise is checked against.

One function per computation, NumPy in and NumPy (float64) out, so that the checker never
depends on how a layer arranges its cache. Gradients come from the reference layers in
``scratchlm/layers``; values from the layers, ``scratchlm.ngram``, ``scratchlm.metrics``,
``scratchlm.beam``, ``scratchlm.data`` and ``scratchlm.train``.
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import attention as attention_layer
from scratchlm.layers import embedding as embedding_layer
from scratchlm.layers import gru as gru_layer
from scratchlm.layers import linear as linear_layer
from scratchlm.layers import lstm as lstm_layer
from scratchlm.layers import rnn as rnn_layer
from scratchlm.layers import softmax_cross_entropy as softmax_layer

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _in(array):
    return backend.asarray(array)


def _out(array) -> np.ndarray:
    return np.asarray(backend.asnumpy(array), dtype=np.float64)


def _params_in(params: dict) -> dict:
    return {name: _in(params[name]) for name in PARAM_NAMES}


def _grads_out(dparams: dict) -> dict:
    return {"d" + name: _out(dparams[name]) for name in PARAM_NAMES}


def embedding(ids, weight, dout):
    out, cache = embedding_layer.embedding_forward(_in(ids), _in(weight))
    return {"out": _out(out), "dweight": _out(embedding_layer.embedding_backward(_in(dout), cache))}


def affine(x, weight, bias, dy):
    y, cache = linear_layer.linear_forward(_in(x), _in(weight), _in(bias))
    dx, dweight, dbias = linear_layer.linear_backward(_in(dy), cache)
    return {"y": _out(y), "dx": _out(dx), "dweight": _out(dweight), "dbias": _out(dbias)}


def softmax_cross_entropy(logits, targets, mask, dloss):
    loss, cache = softmax_layer.softmax_cross_entropy_forward(_in(logits), _in(targets), _in(mask))
    return {"loss": np.float64(loss), "dlogits": _out(softmax_layer.softmax_cross_entropy_backward(cache, dloss))}


def rnn_step(x, h_prev, params, dh):
    h, cache = rnn_layer.rnn_step_forward(_in(x), _in(h_prev), _params_in(params))
    dx, dh_prev, dparams = rnn_layer.rnn_step_backward(_in(dh), cache)
    return {"h": _out(h), "dx": _out(dx), "dh_prev": _out(dh_prev), **_grads_out(dparams)}


def rnn_sequence(x, h0, params, dhs, dh_last):
    hs, h_last, cache = rnn_layer.rnn_forward(_in(x), _in(h0), _params_in(params))
    dx, dh0, dparams = rnn_layer.rnn_backward(_in(dhs), _in(dh_last), cache)
    return {"hs": _out(hs), "h_last": _out(h_last), "dx": _out(dx), "dh0": _out(dh0), **_grads_out(dparams)}


def lstm_step(x, h_prev, c_prev, params, dh, dc):
    (h, c), cache = lstm_layer.lstm_step_forward(_in(x), (_in(h_prev), _in(c_prev)), _params_in(params))
    dx, (dh_prev, dc_prev), dparams = lstm_layer.lstm_step_backward((_in(dh), _in(dc)), cache)
    return {"h": _out(h), "c": _out(c), "dx": _out(dx), "dh_prev": _out(dh_prev), "dc_prev": _out(dc_prev),
            **_grads_out(dparams)}


def lstm_sequence(x, h0, c0, params, dhs, dh_last, dc_last):
    hs, (h_last, c_last), cache = lstm_layer.lstm_forward(_in(x), (_in(h0), _in(c0)), _params_in(params))
    dx, (dh0, dc0), dparams = lstm_layer.lstm_backward(_in(dhs), (_in(dh_last), _in(dc_last)), cache)
    return {"hs": _out(hs), "h_last": _out(h_last), "c_last": _out(c_last), "dx": _out(dx), "dh0": _out(dh0),
            "dc0": _out(dc0), **_grads_out(dparams)}


def gru_step(x, h_prev, params, dh):
    h, cache = gru_layer.gru_step_forward(_in(x), _in(h_prev), _params_in(params))
    dx, dh_prev, dparams = gru_layer.gru_step_backward(_in(dh), cache)
    return {"h": _out(h), "dx": _out(dx), "dh_prev": _out(dh_prev), **_grads_out(dparams)}


def attention(queries, keys, mask, weight, dcontext):
    """Luong's "general" attention: context, weights and the gradients of sum(dcontext * context)."""
    context, weights, cache = attention_layer.attention_forward(_in(queries), _in(keys), _in(mask),
                                                                {"weight": _in(weight)}, "general")
    dqueries, dkeys, dparams = attention_layer.attention_backward(_in(dcontext), cache)
    return {"context": _out(context), "weights": _out(weights), "dqueries": _out(dqueries), "dkeys": _out(dkeys),
            "dweight": _out(dparams["weight"])}
