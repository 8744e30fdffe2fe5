"""Batching: stream windows for truncated BPTT against brute-force slicing; padded items and masks."""
import numpy as np
import pytest

from scratchlm.data import ItemBatches, StreamBatches, batches_for, batchify, pad_items
from scratchlm.text import Vocabulary

PAD, BOS, EOS = Vocabulary.pad_id, Vocabulary.bos_id, Vocabulary.eos_id


# --- (a) streams for truncated BPTT ----------------------------------------------------------

def test_stream_windows_worked_example():
    # ids 0..11 in 2 streams of 6: [0..5] and [6..11]; bptt 2 -> windows of 2, 2, 1 steps
    windows = list(StreamBatches(np.arange(12), batch_size=2, bptt=2))
    expected = [
        ([[0, 1], [6, 7]], [[1, 2], [7, 8]]),
        ([[2, 3], [8, 9]], [[3, 4], [9, 10]]),
        ([[4], [10]], [[5], [11]]),
    ]
    assert len(windows) == 3
    for (inputs, targets), (want_inputs, want_targets) in zip(windows, expected):
        assert inputs.tolist() == want_inputs and targets.tolist() == want_targets


def brute_force_windows(ids, batch, bptt):
    """Each stream as a Python list; its (input, next token) pairs chunked bptt at a time."""
    length = len(ids) // batch
    streams = [list(ids[b * length:(b + 1) * length]) for b in range(batch)]
    pairs = [list(zip(stream[:-1], stream[1:])) for stream in streams]
    windows = []
    for start in range(0, length - 1, bptt):
        chunk = [row[start:start + bptt] for row in pairs]
        windows.append(([[x for x, _ in row] for row in chunk], [[y for _, y in row] for row in chunk]))
    return windows


@pytest.mark.parametrize("n, batch, bptt", [(100, 4, 7), (101, 5, 4), (64, 1, 63), (1000, 20, 35), (37, 3, 11), (50, 7, 6)])
def test_stream_windows_match_brute_force(n, batch, bptt):
    ids = np.random.default_rng(n).integers(0, 50, size=n)
    windows = list(StreamBatches(ids, batch, bptt))
    expected = brute_force_windows(ids, batch, bptt)
    assert len(windows) == len(expected) == len(StreamBatches(ids, batch, bptt))
    for (inputs, targets), (want_inputs, want_targets) in zip(windows, expected):
        assert inputs.shape == targets.shape == (batch, len(want_inputs[0]))
        assert inputs.dtype == np.int64
        assert inputs.tolist() == want_inputs and targets.tolist() == want_targets


def test_each_window_continues_where_the_last_ended():
    ids = np.arange(1000)  # distinct ids, so a position is identified by its value
    batch, bptt = 8, 9
    windows = list(StreamBatches(ids, batch, bptt))
    length = 1000 // batch
    for (inputs, targets), (next_inputs, _) in zip(windows, windows[1:]):
        # stream b's next window starts at the token right after this window's last input,
        # which is this window's last target: the carried hidden state has read exactly up to it
        assert np.array_equal(next_inputs[:, 0], inputs[:, -1] + 1)
        assert np.array_equal(next_inputs[:, 0], targets[:, -1])
    # read in order, the windows cover each stream exactly once
    all_inputs = np.concatenate([inputs for inputs, _ in windows], axis=1)
    all_targets = np.concatenate([targets for _, targets in windows], axis=1)
    streams = ids[: batch * length].reshape(batch, length)
    assert np.array_equal(all_inputs, streams[:, :-1]) and np.array_equal(all_targets, streams[:, 1:])
    assert StreamBatches(ids, batch, bptt).num_tokens == all_targets.size == batch * (length - 1)


def test_batchify_drops_the_tail():
    streams = batchify(list(range(11)), 3)
    assert streams.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(ids=np.arange(20), batch_size=2, bptt=10), "bptt=10 is longer than the data"),
    (dict(ids=np.arange(5), batch_size=8, bptt=2), "fewer tokens than streams"),
    (dict(ids=[], batch_size=1, bptt=1), "fewer tokens than streams"),
    (dict(ids=np.arange(20), batch_size=2, bptt=0), "bptt must be a positive integer"),
    (dict(ids=np.arange(20), batch_size=0, bptt=2), "batch_size must be a positive integer"),
    (dict(ids=np.arange(20).reshape(4, 5), batch_size=2, bptt=2), "1-D"),
    (dict(ids=[-1, 2, 3, 4], batch_size=1, bptt=2), "non-negative"),
])
def test_stream_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StreamBatches(**kwargs)


def test_stream_ids_must_be_integers():
    with pytest.raises(TypeError, match="integers"):
        StreamBatches(np.linspace(0, 1, 20), 2, 2)


def test_bptt_exactly_fitting_the_data_is_allowed():
    # 2 streams of 10 tokens give 9 (input, target) steps: bptt 9 is one full window
    (inputs, targets), = list(StreamBatches(np.arange(20), 2, 9))
    assert inputs.shape == (2, 9) and targets[1].tolist() == list(range(11, 20))


# --- (b) padded items with a mask ------------------------------------------------------------

def test_pad_items_worked_example():
    inputs, targets, mask = pad_items([[7, 8, 9], [5], []])
    assert inputs.tolist() == [[BOS, 7, 8, 9], [BOS, 5, PAD, PAD], [BOS, PAD, PAD, PAD]]
    assert targets.tolist() == [[7, 8, 9, EOS], [5, EOS, PAD, PAD], [EOS, PAD, PAD, PAD]]
    assert mask.tolist() == [[True] * 4, [True, True, False, False], [True, False, False, False]]


def test_pad_items_invariants():
    rng = np.random.default_rng(0)
    items = [list(rng.integers(4, 30, size=rng.integers(0, 12))) for _ in range(40)]
    inputs, targets, mask = pad_items(items)
    lengths = np.array([len(item) for item in items])
    assert inputs.shape == targets.shape == mask.shape == (40, lengths.max() + 1)
    assert mask.dtype == bool
    assert mask.sum() == (lengths + 1).sum()  # every token and one <eos> per item are predicted
    assert np.array_equal(mask.sum(axis=1), lengths + 1)
    assert np.all(mask[:, :-1] >= mask[:, 1:])  # each row's mask is a prefix
    assert np.all(inputs[:, 0] == BOS)
    assert np.all(targets[np.arange(40), lengths] == EOS)
    assert np.all(inputs[~mask] == PAD) and np.all(targets[~mask] == PAD)
    assert not np.any(targets[mask] == PAD) and not np.any(targets[mask] == BOS)
    # targets are inputs shifted one step left, on the real positions
    for row, item in enumerate(items):
        n = len(item)
        assert inputs[row, 1:n + 1].tolist() == item == targets[row, :n].tolist()


def masked_nll(log_probs, targets, mask):
    """Sum of -log p(target) over the True positions of mask."""
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return -(picked * mask).sum()


def test_padding_never_counts_in_the_loss():
    # score each item alone (no padding) and inside a padded batch, with a "model" whose
    # log-probabilities depend only on position and target: the totals must agree
    rng = np.random.default_rng(1)
    vocab, longest = 12, 9
    table = np.log(rng.dirichlet(np.ones(vocab), size=longest + 1))  # (T, V)
    items = [list(rng.integers(4, vocab, size=n)) for n in (0, 3, longest, 5)]
    inputs, targets, mask = pad_items(items)
    batch_log_probs = np.broadcast_to(table[: inputs.shape[1]], inputs.shape + (vocab,))
    batch_total = masked_nll(batch_log_probs, targets, mask)
    alone_total = 0.0
    for item in items:
        alone_total += -sum(table[t, token] for t, token in enumerate(item + [EOS]))
    assert np.isclose(batch_total, alone_total, rtol=1e-12)
    # perplexity of a uniform model over the masked positions is the vocabulary size
    uniform = np.full(inputs.shape + (vocab,), -np.log(vocab))
    assert np.isclose(np.exp(masked_nll(uniform, targets, mask) / mask.sum()), vocab)


def collect(batches):
    out = []
    for inputs, targets, mask in batches:
        for row in range(inputs.shape[0]):
            out.append(tuple(targets[row, : mask[row].sum() - 1].tolist()))
    return out


ITEMS = [[4 + (i % 7)] * (1 + (i * 5) % 11) + [4 + i % 3] for i in range(53)]


@pytest.mark.parametrize("shuffle, bucket", [(False, False), (True, False), (False, True), (True, True)])
def test_every_item_once_per_epoch(shuffle, bucket):
    batches = ItemBatches(ITEMS, batch_size=8, shuffle=shuffle, seed=3, bucket=bucket, bucket_pool=2)
    assert len(batches) == 7  # ceil(53 / 8)
    assert sorted(collect(batches)) == sorted(tuple(item) for item in ITEMS)
    assert batches.num_tokens == sum(len(item) + 1 for item in ITEMS)
    if not shuffle and not bucket:
        assert collect(batches) == [tuple(item) for item in ITEMS]


def test_shuffle_is_seeded_per_epoch():
    a = ItemBatches(ITEMS, batch_size=8, shuffle=True, seed=5)
    b = ItemBatches(ITEMS, batch_size=8, shuffle=True, seed=5)
    first = collect(a)
    assert collect(a) == first == collect(b)  # same seed, same epoch: same order
    a.set_epoch(1)
    second = collect(a)
    assert second != first
    b.set_epoch(1)
    assert collect(b) == second  # a resumed run that sets the epoch continues the same order
    assert collect(ItemBatches(ITEMS, batch_size=8, shuffle=True, seed=6)) != first


def test_bucketing_reduces_padding():
    rng = np.random.default_rng(2)
    items = [list(rng.integers(4, 20, size=rng.integers(1, 30))) for _ in range(400)]

    def padded_cells(batches):
        return sum(int((~mask).sum()) for _, _, mask in batches)

    plain = ItemBatches(items, batch_size=16, shuffle=True, seed=0)
    bucketed = ItemBatches(items, batch_size=16, shuffle=True, seed=0, bucket=True)
    assert padded_cells(bucketed) < padded_cells(plain) / 2


def test_drop_last():
    batches = ItemBatches(ITEMS, batch_size=8, drop_last=True)
    assert len(batches) == 6 == len(list(batches))
    assert all(inputs.shape[0] == 8 for inputs, _, _ in batches)


@pytest.mark.parametrize("items, kwargs, error, message", [
    ([], dict(batch_size=2), ValueError, "at least one item"),
    ([[4]], dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ([[4]], dict(batch_size=2, drop_last=True), ValueError, "leaves no batch"),
    ([[4.5]], dict(batch_size=1), TypeError, "integers"),
])
def test_item_batches_bad_input(items, kwargs, error, message):
    with pytest.raises(error, match=message):
        ItemBatches(items, **kwargs)


def test_pad_items_rejects_an_empty_batch():
    with pytest.raises(ValueError, match="zero items"):
        pad_items([])


def test_batches_for_picks_the_batcher_of_the_split():
    from scratchlm.text import CharTokenizer

    tok = CharTokenizer.fit("abcdefgh\n")
    stream = batches_for(tok, "abcdefgh\n" * 10, batch_size=3, bptt=4)
    assert isinstance(stream, StreamBatches) and stream.streams.shape == (3, 30)
    assert stream.streams[0, :9].tolist() == tok.encode("abcdefgh\n")
    items = batches_for(tok, ["abc", "de", "f"], batch_size=2, shuffle=True, seed=1)
    assert isinstance(items, ItemBatches) and len(items) == 2
    assert sorted(collect(items)) == sorted(tuple(tok.encode(s)) for s in ["abc", "de", "f"])
    with pytest.raises(ValueError, match="needs bptt"):
        batches_for(tok, "abcdefgh" * 4, batch_size=2)
    with pytest.raises(ValueError, match="item batches"):
        batches_for(tok, "abcdefgh" * 4, batch_size=2, bptt=3, shuffle=True)
