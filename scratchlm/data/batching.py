"""Batches of token ids for training: parallel streams for truncated BPTT, or padded items.

(a) A long stream (a book, a treebank), read for truncated BPTT (Zaremba et al. 2014; the
``batchify`` / ``get_batch`` of pytorch/examples' word language model, here batch-first)::

    ids (N,)  ->  streams (B, L),  L = N // B,  stream b = ids[b*L : (b+1)*L]   (the last N - B*L ids are dropped)

    window k starts at t0 = k * bptt and has T = min(bptt, L - 1 - t0) steps:
        inputs  = streams[:, t0     : t0 + T]          (B, T)
        targets = streams[:, t0 + 1 : t0 + 1 + T]      (B, T)    the next token of each input

    e.g. ids 0..11, B = 2, bptt = 2:   streams = [[0 1 2 3 4 5],
                                                  [6 7 8 9 10 11]]
        window 0: inputs [[0 1] [6 7]]   targets [[1 2] [7 8]]
        window 1: inputs [[2 3] [8 9]]   targets [[3 4] [9 10]]
        window 2: inputs [[4] [10]]      targets [[5] [11]]    (the last window may be shorter)

Row b of window k + 1 starts exactly where row b of window k ended, so the hidden state at the end
of one window is the right start state for the next: carry it (cut from the graph) instead of
starting from zeros. Every id except the first of each stream is predicted exactly once per epoch.

(b) Short independent items (names, sentences), each framed by ``<bos>`` and ``<eos>``::

    item [w1 .. wn]  ->  inputs  [<bos> w1 .. wn]         (length n + 1)
                         targets [w1 .. wn <eos>]
    padded with <pad> to the longest item of the batch; mask is True on real target positions.

``<bos>`` is fed, never predicted; ``<eos>`` is predicted and counted; padding is masked out of
the loss and the perplexity (pass the mask to the loss). Each batch starts from a zero state.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from ..text.vocab import Vocabulary

ID_DTYPE = np.int64


def _as_id_array(ids, what: str = "ids") -> np.ndarray:
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"{what} must be a 1-D sequence of token ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{what} must be integers, got dtype {array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(f"{what} must be non-negative token ids, found {array.min()}")
    return array.astype(ID_DTYPE, copy=False)


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def batchify(ids: Sequence[int], batch_size: int) -> np.ndarray:
    """Cut a token stream into ``batch_size`` equal consecutive streams: (N,) -> (B, N // B).

    The last ``N % B`` ids are dropped so every stream has the same length.
    """
    ids = _as_id_array(ids)
    batch_size = _check_positive_int(batch_size, "batch_size")
    length = ids.size // batch_size
    if length == 0:
        raise ValueError(f"a stream of {ids.size} tokens cannot be cut into {batch_size} streams (fewer tokens than streams)")
    return ids[: batch_size * length].reshape(batch_size, length)


class StreamBatches:
    """Windows of ``bptt`` steps over ``batch_size`` parallel streams, for truncated BPTT.

    Iterating yields ``(inputs, targets)``, two int64 arrays of shape (batch_size, T) with
    T = bptt, except that the last window may be shorter (see the module docstring).

    ids: the token stream, shape (N,).
    batch_size: B, the number of parallel streams.
    bptt: the window length (number of time steps per update).
    """

    def __init__(self, ids: Sequence[int], batch_size: int, bptt: int):
        ids = _as_id_array(ids)
        self.bptt = _check_positive_int(bptt, "bptt")
        self.streams = batchify(ids, batch_size)  # (B, L)
        self.batch_size, self.stream_length = self.streams.shape
        if self.stream_length - 1 < self.bptt:
            raise ValueError(
                f"bptt={self.bptt} is longer than the data: {ids.size} tokens in {self.batch_size} "
                f"streams give {self.stream_length} tokens per stream, so at most "
                f"{self.stream_length - 1} steps per window; use a smaller bptt or batch_size"
            )

    def __len__(self) -> int:
        """The number of windows per epoch, ceil((L - 1) / bptt)."""
        return -(-(self.stream_length - 1) // self.bptt)

    @property
    def num_tokens(self) -> int:
        """Predicted tokens per epoch: B * (L - 1)."""
        return self.batch_size * (self.stream_length - 1)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, self.stream_length - 1, self.bptt):
            steps = min(self.bptt, self.stream_length - 1 - start)
            inputs = self.streams[:, start : start + steps]
            targets = self.streams[:, start + 1 : start + 1 + steps]
            yield inputs, targets

    def __repr__(self) -> str:
        return f"StreamBatches(batch_size={self.batch_size}, bptt={self.bptt}, windows={len(self)}, tokens={self.num_tokens:,})"


def pad_items(
    items: Sequence[Sequence[int]],
    pad_id: int = Vocabulary.pad_id,
    bos_id: int = Vocabulary.bos_id,
    eos_id: int = Vocabulary.eos_id,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame each item with ``<bos>``/``<eos>`` and pad to a common length.

    items: B sequences of token ids (lengths n_b >= 0, not counting the framing).
    Returns inputs (B, T) int64, targets (B, T) int64, mask (B, T) bool, with T = max n_b + 1:
        inputs[b, :n_b+1]  = <bos> w1 .. wn      inputs[b, n_b+1:]  = <pad>
        targets[b, :n_b+1] = w1 .. wn <eos>      targets[b, n_b+1:] = <pad>
        mask[b, t] = t < n_b + 1                 (True exactly on the predicted positions)
    """
    if len(items) == 0:
        raise ValueError("cannot make a batch of zero items")
    arrays = [_as_id_array(item, "each item") for item in items]
    steps = max(array.size for array in arrays) + 1
    inputs = np.full((len(arrays), steps), pad_id, dtype=ID_DTYPE)
    targets = np.full((len(arrays), steps), pad_id, dtype=ID_DTYPE)
    mask = np.zeros((len(arrays), steps), dtype=bool)
    for row, array in enumerate(arrays):
        n = array.size
        inputs[row, 0] = bos_id
        inputs[row, 1 : n + 1] = array
        targets[row, :n] = array
        targets[row, n] = eos_id
        mask[row, : n + 1] = True
    return inputs, targets, mask


class ItemBatches:
    """Padded, masked batches of short items (names, sentences), optionally shuffled and bucketed.

    Iterating yields ``(inputs, targets, mask)`` as :func:`pad_items` makes them.

    items: the encoded items, a list of id sequences (no ``<bos>``/``<eos>``; they are added).
    batch_size: items per batch (the last batch may be smaller unless ``drop_last``).
    shuffle: a new order every epoch, drawn from ``numpy.random.default_rng([seed, epoch])``, so
        epoch e has the same order in every run with the same seed, and a resumed run can
        continue it: call ``set_epoch(e)`` before iterating epoch e (without it, every pass is epoch 0).
    bucket: group items of similar length into a batch (less padding): the items, in epoch order,
        are taken ``bucket_pool`` batches at a time, sorted by length within the pool, cut into
        batches, and the batches are then shuffled (when ``shuffle``).
    """

    def __init__(
        self,
        items: Sequence[Sequence[int]],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        bucket: bool = False,
        bucket_pool: int = 50,
        drop_last: bool = False,
        pad_id: int = Vocabulary.pad_id,
        bos_id: int = Vocabulary.bos_id,
        eos_id: int = Vocabulary.eos_id,
    ):
        if len(items) == 0:
            raise ValueError("ItemBatches needs at least one item (the corpus split is empty)")
        self.items = [_as_id_array(item, "each item") for item in items]
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.bucket_pool = _check_positive_int(bucket_pool, "bucket_pool")
        if drop_last and len(self.items) < self.batch_size:
            raise ValueError(f"drop_last with {len(self.items)} items and batch_size={self.batch_size} leaves no batch")
        self.shuffle, self.seed, self.bucket, self.drop_last = bool(shuffle), int(seed), bool(bucket), bool(drop_last)
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose which epoch's order the next iteration gives (only matters with shuffle)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        full, rest = divmod(len(self.items), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    @property
    def num_tokens(self) -> int:
        """Predicted tokens per epoch (each item's tokens plus its ``<eos>``; with ``drop_last``
        this counts all items, including the few a given epoch leaves out)."""
        return sum(item.size + 1 for item in self.items)

    def batch_order(self) -> list[np.ndarray]:
        """The item indices of each batch of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.items)) if self.shuffle else np.arange(len(self.items))
        if self.bucket:
            pool = self.batch_size * self.bucket_pool
            lengths = np.array([item.size for item in self.items])
            order = np.concatenate([
                chunk[np.argsort(lengths[chunk], kind="stable")]
                for chunk in (order[i : i + pool] for i in range(0, len(order), pool))
            ])
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and batches[-1].size < self.batch_size:
            batches.pop()
        if self.bucket and self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for indices in self.batch_order():
            yield pad_items([self.items[i] for i in indices], self.pad_id, self.bos_id, self.eos_id)

    def __repr__(self) -> str:
        return f"ItemBatches({len(self.items)} items, batch_size={self.batch_size}, batches={len(self)}, shuffle={self.shuffle}, bucket={self.bucket})"


def batches_for(tokenizer, split, batch_size: int, bptt: int | None = None, **item_options) -> StreamBatches | ItemBatches:
    """Encode one corpus split with ``tokenizer`` and batch it the way its kind needs.

    split: a str (a stream split) -> ``StreamBatches(tokenizer.encode(split), batch_size, bptt)``;
        a list of str (a lines split) -> ``ItemBatches([tokenizer.encode(item) ...], batch_size, **item_options)``
        (``shuffle``, ``seed``, ``bucket``, ``drop_last`` ...).
    """
    if isinstance(split, str):
        if bptt is None:
            raise ValueError("a stream split needs bptt, the window length")
        if item_options:
            raise ValueError(f"options {sorted(item_options)} apply to item batches, not to a stream")
        return StreamBatches(tokenizer.encode(split), batch_size, bptt)
    return ItemBatches([tokenizer.encode(item) for item in split], batch_size, **item_options)
