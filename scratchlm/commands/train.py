"""Train a recurrent language model; with no arguments, the lecture's character LSTM on the Finnish names.

    scratchlm train                                   # the main job: the calendar as one text
    scratchlm train --kind items                      # the names as separate items, <bos> name <eos>
    scratchlm train tinyshakespeare --bptt 100 --hidden-size 256 --epochs 3
    scratchlm train ptb --data-path ~/data/ptb --tokenizer word --layers 2 --hidden-size 200 ...
    scratchlm train my_text.txt --kind stream
    scratchlm train --resume runs/finnish-names/last.npz

The main job reads the name-day calendar as the lecture does: one text, in its order, every name
followed by a space, learnt by a character LSTM with truncated BPTT. Every 10th name is held out in
its place (and the one half-way between, for test): the training stream leaves them out, and
every model is scored on their characters (and the space after each) while reading the whole
true text (``scratchlm.data.heldout``). It then prints a line of names continuing "Aadolf" at each
of the lecture's seven temperatures, new names, and the measured statistics of every temperature
(``scratchlm.commands.names_report``). ``--kind items`` trains on the names as separate items
instead (each from ``<bos>`` to ``<eos>``): the model for generating one name at a time.

For other corpora it reports the validation perplexity of the best epoch's model next to an add-one
bigram model fitted on the same training split, prints samples at several temperatures. Every run
leaves in the output folder: ``model.npz`` (the best model; ``scratchlm sample`` / ``eval`` read
it), ``last.npz`` (where training stood; ``--resume`` continues from it) and ``loss.png``.
Ctrl-C stops after the current step and saves ``last.npz``.

The output folder is ``runs/<corpus>``, or ``runs/<corpus>-2``, ``-3``, ... when that one already
holds a run (:mod:`scratchlm.commands.run_dirs`); every option is checked before any work starts
(:mod:`scratchlm.commands.options`, :mod:`scratchlm.commands.train_options`); ``--resume``
follows the rules of :func:`~scratchlm.commands.train_options.resume_overrides` and
:mod:`scratchlm.train.resume`.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import warnings

from scratchlm import backend
from scratchlm.commands.options import (existing_folder, float_in, non_negative_float, non_negative_int, positive_float,
                                        positive_int, readable_file)
from scratchlm.commands.run_dirs import choose_run_folder, clear_run, copy_best_model
from scratchlm.commands.train_options import (check_memory, check_options, check_prompt, describe_overrides, prompt_ids,
                                              resume_overrides)
from scratchlm.commands.names_report import LECTURE_TEMPERATURES, print_names_report
from scratchlm.data import CORPUS_NAMES, load_corpus
from scratchlm.data.corpora import AS_NAME_STREAM
from scratchlm.data.heldout import NameStream
from scratchlm.layers import CELLS
from scratchlm.metrics import EvaluationResult, evaluate, evaluate_counted, evaluate_stream
from scratchlm.models.rnnlm import RNNLM
from scratchlm.ngram.baselines import baseline_models
from scratchlm.sampling import generate
from scratchlm.text import TOKENIZERS, Vocabulary
from scratchlm.text.char import CHAR_UNKNOWN_POLICIES
from scratchlm.train.checkpoint import check_same_vocabulary, load_checkpoint, load_trained_model
from scratchlm.train.loop import (BEST_CHECKPOINT, LAST_CHECKPOINT, LR_SCHEDULES, Trainer, TrainConfig, TrainingDiverged,
                                  validation_nll)
from scratchlm.train.optimizers import OPTIMIZERS
from scratchlm.train.prepare import encode_corpus, fit_tokenizer
from scratchlm.train.progress import progress_bar
from scratchlm.train.resume import check_same_corpus, corpus_sha256, locate_corpus

DEFAULT_CORPUS = "finnish-names"
DEFAULT_TEMPERATURES = (0.1, 0.5, 1.0, 2.0)
# the lecture's prompt: the first name of the calendar
DEFAULT_PROMPTS = {"finnish-names": "Aadolf"}
DEFAULT_EPOCHS = 25
# streams of a short corpus: the main job's 3,794 training characters make 32 streams of 118
# characters, 4 TBPTT windows an epoch, so it takes more epochs
DEFAULT_EPOCHS_OF = {"finnish-names": 60}
EXIT_INTERRUPTED = 130
EXIT_DIVERGED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS,
                      help=f"a corpus name ({', '.join(CORPUS_NAMES)}) or the path of a UTF-8 text file (default: {DEFAULT_CORPUS}); "
                           "with --resume: where the run's text file is now, if it moved")
    data.add_argument("--data-path", type=existing_folder, default=None, metavar="DIR", help="folder holding the ptb / wikitext-2 files")
    data.add_argument("--download", action="store_true", help="download ptb / wikitext-2 (sha256-checked) when no --data-path is given")
    data.add_argument("--kind", choices=("items", "lines", "stream"), default=None,
                      help="items (or lines): one item per line, each from <bos> to <eos>; stream: one text for truncated "
                           "BPTT. Default: stream; finnish-names as a stream is the lecture's calendar text with every "
                           "10th name held out in place (the main job)")
    data.add_argument("--tokenizer", choices=tuple(TOKENIZERS), default="char", help="char, word or bpe (default: char)")
    data.add_argument("--max-vocab", type=positive_int, default=None, help="word tokenizer: keep the most frequent words only")
    data.add_argument("--min-count", type=positive_int, default=1, help="word tokenizer: drop words seen fewer times")
    data.add_argument("--word-split", choices=("words", "whitespace"), default=None,
                      help="word tokenizer: split on words and punctuation, or on whitespace only (default: whitespace for ptb / wikitext-2)")
    data.add_argument("--bpe-merges", type=non_negative_int, default=1000, help="bpe tokenizer: number of merges to learn")
    data.add_argument("--unknown", choices=CHAR_UNKNOWN_POLICIES, default="error",
                      help="char tokenizer: a --prompt character outside the vocabulary is an error, <unk>, or skipped (default: error)")

    model = parser.add_argument_group("model")
    model.add_argument("--cell", choices=tuple(CELLS), default="lstm")
    model.add_argument("--embed-dim", type=positive_int, default=32)
    model.add_argument("--hidden-size", type=positive_int, default=128)
    model.add_argument("--layers", type=positive_int, default=1)
    model.add_argument("--dropout", type=float_in(0.0, 1.0, high_open=True), default=0.3)
    model.add_argument("--tie-weights", action="store_true", help="share the embedding with the decoder (needs embed-dim == hidden-size)")
    model.add_argument("--init-range", type=positive_float, default=None, help="draw every parameter from U(-r, r) (default: PyTorch's initialisation)")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, default=None,
                          help=f"passes over the training data (default: {DEFAULT_EPOCHS}; with --resume: as saved)")
    training.add_argument("--batch-size", type=positive_int, default=32)
    training.add_argument("--bptt", type=positive_int, default=35, help="TBPTT k1: steps per update (stream corpora)")
    training.add_argument("--bptt-k2", type=positive_int, default=None, help="TBPTT k2 >= k1: steps each update backpropagates (default k1)")
    training.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="adam")
    training.add_argument("--lr", type=positive_float, default=3e-3)
    training.add_argument("--momentum", type=float_in(0.0, 1.0, high_open=True), default=0.0, help="sgd momentum, 0 <= m < 1")
    training.add_argument("--clip", type=non_negative_float, default=5.0, help="clip the global gradient norm to this (0: no clipping)")
    training.add_argument("--clip-value", type=positive_float, default=None, help="also clip every gradient coordinate to [-v, v]")
    training.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="none")
    training.add_argument("--decay-factor", type=float_in(0.0, 1.0, low_open=True, high_open=True), default=0.5,
                          help="step / plateau schedules: multiply the learning rate by this, 0 < f < 1")
    training.add_argument("--decay-after", type=positive_int, default=4, help="step schedule: decay after this many epochs")
    training.add_argument("--patience", type=non_negative_int, default=6, help="early stopping: epochs without improvement (0: never stop early)")
    training.add_argument("--seed", type=non_negative_int, default=0)
    training.add_argument("--backend", choices=backend.BACKENDS, default=None, help="numpy, numba or cupy (default: SCRATCHLM_BACKEND or numpy)")
    training.add_argument("--out", default=None, metavar="DIR",
                          help="output folder (default: runs/<corpus>, or runs/<corpus>-2, -3, ... when that one already holds a run)")
    training.add_argument("--overwrite", action="store_true", help="train into an --out that already holds a run, replacing it")
    training.add_argument("--resume", type=readable_file, default=None, metavar="CHECKPOINT",
                          help="continue the run saved in CHECKPOINT (last.npz); --epochs, --lr, --patience, --clip and the "
                               "report options may change, the data, model and other training options may not")
    training.add_argument("--allow-changed-data", action="store_true",
                          help="with --resume: continue even though the corpus text differs from the one the run started on")
    training.add_argument("--no-progress", action="store_true", help="no progress bars")

    report = parser.add_argument_group("report")
    report.add_argument("--prompt", default=None, help='the samples continue this text (default: "Aadolf" for finnish-names, nothing otherwise)')
    report.add_argument("--temperatures", type=positive_float, nargs="+", default=None,
                        help=f"default: the lecture's {' '.join(map(str, LECTURE_TEMPERATURES))} for the main job, "
                             f"{' '.join(map(str, DEFAULT_TEMPERATURES))} otherwise")
    report.add_argument("--num-samples", type=positive_int, default=5, help="samples per temperature")
    report.add_argument("--sample-length", type=positive_int, default=None, help="longest sample in tokens (default: 30 for items, 200 for streams)")


def _corpus_name(corpus: str) -> str:
    return corpus if corpus in CORPUS_NAMES else os.path.splitext(os.path.basename(corpus))[0] or "corpus"


def _corpus_kind(args) -> str | None:
    """The Corpus kind of ``--kind`` ("items" is "lines"); the main job's corpus defaults to "stream"."""
    if args.kind is None:
        return "stream" if args.corpus in AS_NAME_STREAM else None
    return "lines" if args.kind == "items" else args.kind


def _data_info(args) -> dict:
    """The data, as the checkpoint records it: a text file by its absolute path (resume from anywhere)."""
    word_split = args.word_split or ("whitespace" if args.corpus in ("ptb", "wikitext-2") else "words")
    corpus = args.corpus if args.corpus in CORPUS_NAMES else os.path.abspath(args.corpus)
    data_path = os.path.abspath(args.data_path) if args.data_path else None
    return {"corpus": corpus, "data_path": data_path, "kind": _corpus_kind(args), "tokenizer": args.tokenizer,
            "max_vocab": args.max_vocab, "min_count": args.min_count, "word_split": word_split,
            "bpe_merges": args.bpe_merges}


def _load_data(info: dict, download: bool):
    corpus = load_corpus(info["corpus"], path=info["data_path"], download=download, kind=info["kind"])
    tokenizer = fit_tokenizer(corpus, info["tokenizer"], max_vocab=info["max_vocab"], min_count=info["min_count"],
                              word_split=info["word_split"], bpe_merges=info["bpe_merges"])
    return corpus, tokenizer, encode_corpus(tokenizer, corpus)


def _train_config(args) -> TrainConfig:
    default_epochs = DEFAULT_EPOCHS_OF.get(args.corpus, DEFAULT_EPOCHS) if _corpus_kind(args) == "stream" else DEFAULT_EPOCHS
    return TrainConfig(epochs=default_epochs if args.epochs is None else args.epochs, batch_size=args.batch_size, bptt=args.bptt, bptt_k2=args.bptt_k2,
                       optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
                       clip_norm=args.clip if args.clip > 0 else None, clip_value=args.clip_value,
                       lr_schedule=args.lr_schedule, decay_factor=args.decay_factor, decay_after=args.decay_after,
                       patience=args.patience if args.patience > 0 else None, seed=args.seed)


def _new_trainer(args, corpus, tokenizer, train, valid, out_dir, info) -> Trainer:
    lines = corpus.kind == "lines"
    vocab = tokenizer.vocab
    steps = max(len(item) for item in train) + 1 if lines else args.bptt_k2 or args.bptt
    announcement = check_memory(args, len(vocab), steps)
    if announcement:
        print(announcement, flush=True)
    model = RNNLM(len(vocab), args.embed_dim, args.hidden_size, num_layers=args.layers, cell=args.cell,
                  dropout=args.dropout, tie_weights=args.tie_weights, seed=args.seed, init_range=args.init_range,
                  bos_id=vocab.bos_id if lines else None, eos_id=vocab.eos_id if lines else None)
    return Trainer(model, tokenizer.to_json(), train, valid, corpus.kind, _train_config(args), out_dir=out_dir,
                   data_info=info, progress=not args.no_progress,
                   validation=_heldout_validation(corpus, tokenizer))


def _heldout_validation(corpus, tokenizer):
    """For a NameStream, the trainer's validation score: the validation names in their place in
    the whole text (``evaluate_counted``); None (the trainer's own) for any other corpus."""
    if not isinstance(corpus, NameStream):
        return None
    text_ids = tokenizer.encode(corpus.text)
    counted = corpus.counted("valid")

    def validation(model):
        result = evaluate_counted(model, text_ids, counted)
        return result.total_nll, result.num_tokens

    return validation


def _describe(corpus, tokenizer, trainer: Trainer) -> str:
    model, config = trainer.model, trainer.config
    unit = "items" if corpus.kind == "lines" else "tokens"
    sizes = f"{len(trainer.train_data):,} train / {len(trainer.valid_data):,} valid {unit}"
    if isinstance(corpus, NameStream):
        sizes = (f"{len(corpus.split_names('train'))} training names as {len(trainer.train_data):,} characters; "
                 f"every {corpus.every}th name held out in place")
    how = "full BPTT over each item" if corpus.kind == "lines" else \
        f"TBPTT(k1={config.bptt}, k2={config.bptt_k2 or config.bptt})"
    return (f"corpus {corpus.name} ({corpus.kind}: {sizes}), {tokenizer.kind} tokenizer, {len(tokenizer.vocab)} tokens\n"
            f"model {model.cell}, {model.num_layers} layer(s), embed {model.embed_dim}, hidden {model.hidden_size}, "
            f"dropout {model.dropout}, {model.num_parameters():,} parameters\n"
            f"training {config.optimizer} lr {config.lr}, batch {config.batch_size}, {how}, "
            f"clip {config.clip_norm}, up to {config.epochs} epochs, backend {backend.name()}")


def _baselines(tokenizer, corpus, train, valid, progress: bool = False) -> list:
    """[(name, EvaluationResult)] of the n-gram baselines (an add-one bigram, a modified
    Kneser-Ney trigram) fitted on the training split and scored on the validation split."""
    if progress:
        print("fitting the n-gram baselines on the training split", file=sys.stderr, flush=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = baseline_models(train, corpus.kind, tokenizer.vocab, quick=True)
    for warning in caught:
        # e.g. too little data to estimate Kneser-Ney discounts: one plain line, not a warning with a source line
        print(f"note: {warning.message}")
    return [(name, _model_evaluation(model, corpus, valid, progress, desc=name)) for name, model in models]


def _model_evaluation(model, corpus, valid, progress: bool = False, desc: str = "validation"):
    """Any LanguageModel on the validation split: an RNNLM by the trainer's own validation code
    (the number of its epoch line), n-gram models through scratchlm.metrics (the same definition)."""
    if isinstance(model, RNNLM):
        return EvaluationResult(*validation_nll(model, valid, corpus.kind, progress=progress))
    if corpus.kind == "lines":
        items = [list(item) + [Vocabulary.eos_id] for item in valid]
        return evaluate(model, progress_bar(items, desc=desc, unit="item", disable=not progress, leave=False))
    if progress:
        print(f"scoring {desc} on the validation split", file=sys.stderr, flush=True)
    return evaluate_stream(model, valid)


def _print_report(model, tokenizer, corpus, train, valid, history, args) -> None:
    unit = "char" if tokenizer.kind == "char" else "token"
    best = min(range(len(history["val_ppl"])), key=lambda i: history["val_ppl"][i])
    if isinstance(corpus, NameStream):
        print_names_report(model, tokenizer, corpus, train, temperatures=args.temperatures or LECTURE_TEMPERATURES,
                           prompt=args.prompt or DEFAULT_PROMPTS[args.corpus], seed=args.seed,
                           best_epoch=history["epoch"][best])
        return
    temperatures = args.temperatures or DEFAULT_TEMPERATURES
    ours = _model_evaluation(model, corpus, valid, progress=not args.no_progress)
    rows = _baselines(tokenizer, corpus, train, valid, not args.no_progress) + [(f"{model.cell.upper()} (best epoch {history['epoch'][best]})", ours)]
    print(f"\nvalidation split: {ours.num_tokens:,} predicted {unit}s" + (" (<eos> included)" if corpus.kind == "lines" else ""))
    print(f"  {'model':<28} {'perplexity':>10} {'nats/' + unit:>11} {'bits/' + unit:>10}")
    for name, result in rows:
        print(f"  {name:<28} {result.perplexity:>10.3f} {result.nll_per_token:>11.4f} {result.bits_per_token:>10.4f}")

    prompt = args.prompt if args.prompt is not None else DEFAULT_PROMPTS.get(args.corpus, "")
    length = args.sample_length or (30 if corpus.kind == "lines" else 200)
    if corpus.kind == "lines":
        # a prompt that is a whole name mostly ends right there, so fresh names are shown too
        columns = [(f'continuing "{prompt}"', prompt)] if prompt else []
        columns.append(("new (from <bos>)", ""))
        for title, text in columns:
            print(f"\nsamples {title}")
            for temperature in temperatures:
                print(f"  T={temperature:<4} " + ", ".join(_samples(model, tokenizer, text, temperature, length, args)))
    else:
        print("\nsamples" + (f' continuing "{prompt}"' if prompt else ""))
        for temperature in temperatures:
            print(f"  T={temperature}:")
            for sample in _samples(model, tokenizer, prompt, temperature, length, args):
                print("    " + sample.replace("\n", "\n    "))


def _samples(model, tokenizer, prompt: str, temperature: float, length: int, args) -> list[str]:
    samples = generate(model, prompt_ids(tokenizer, prompt, args.unknown), n=args.num_samples, max_len=length, temperature=temperature, rng=args.seed)
    return [prompt + tokenizer.decode(ids) for ids in samples]


def _save_loss_curve(history, path) -> None:
    from scratchlm.plot import loss_curves

    figure = loss_curves(history["step_loss"], history["val_loss"], valid_steps=history["epoch_end_step"],
                         xlabel="step", title="training loss per step, validation loss per epoch")
    figure.savefig(path, dpi=100)


def run(args: argparse.Namespace) -> int:
    try:
        return _train_and_report(args)
    except KeyboardInterrupt:
        # Ctrl-C outside the training loop (loading data, writing the report): nothing half done to save
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _train_and_report(args: argparse.Namespace) -> int:
    check_options(args)
    if args.backend:
        backend.use(args.backend)
    if args.resume:
        return _resume(args)
    out_dir, replaces = choose_run_folder(args.out, os.path.join("runs", _corpus_name(args.corpus)), args.overwrite)
    info = _data_info(args)
    corpus, tokenizer, (train, valid, _) = _load_data(info, download=args.download)
    info["sha256"] = corpus_sha256(corpus)
    check_prompt(args, tokenizer)
    trainer = _new_trainer(args, corpus, tokenizer, train, valid, out_dir, info)
    if replaces:
        clear_run(out_dir)
    print(_describe(corpus, tokenizer, trainer), flush=True)
    print(f"writing to {out_dir}", flush=True)
    return _fit_and_report(args, trainer, corpus, tokenizer, train, valid, out_dir)


def _resume(args: argparse.Namespace) -> int:
    """Continue the run in ``args.resume`` (rules: :mod:`scratchlm.train.resume`, :func:`resume_overrides`)."""
    saved = load_checkpoint(args.resume)
    info = saved.config.get("data") or {}
    if not info:
        raise ValueError(f"{args.resume!r} does not say which data it was trained on; cannot resume it")
    overrides = resume_overrides(args, saved, args.resume)
    epochs = overrides.get("epochs", (saved.config.get("train") or {}).get("epochs"))
    history = saved.progress.get("history") or {}
    trained = len(history.get("epoch", []))
    finished = saved.progress.get("epoch", 1) > epochs or (
        history.get("stopped_early") and not {"epochs", "patience"} & set(overrides))
    if finished:
        how = "stopped early" if history.get("stopped_early") else f"all {epochs} epochs done"
        best = min(history["val_ppl"]) if history.get("val_ppl") else None
        print(f"{args.resume}: this run has finished ({trained} epochs trained, {how}"
              + (f", best validation perplexity {best:.3f}" if best is not None else "") + "); nothing to do. "
              "To train on, raise --epochs" + (" or --patience" if history.get("stopped_early") else ""))
        return 0
    # a CORPUS argument on resume says where the run's text file is now
    moved_to = args.corpus if "corpus" in set(getattr(args, "given", ()) or ()) else None
    info = locate_corpus(info, moved_to, args.data_path)
    args.corpus = info["corpus"]
    resume_folder = os.path.dirname(os.path.abspath(args.resume))
    out_dir, replaces = choose_run_folder(args.out, "", args.overwrite, resume_folder=resume_folder)
    corpus, tokenizer, (train, valid, _) = _load_data(info, download=args.download)
    note = check_same_corpus(info, corpus, allow_changed=args.allow_changed_data)
    if note:
        print(note)
    check_same_vocabulary(saved, tokenizer.to_json(), what=f"corpus {info['corpus']!r} as it reads now")
    check_prompt(args, tokenizer)
    info["sha256"] = corpus_sha256(corpus)
    trainer = Trainer.from_checkpoint(args.resume, train, valid, out_dir=out_dir, progress=not args.no_progress,
                                      overrides=overrides, data_info=info,
                                      validation=_heldout_validation(corpus, tokenizer))
    if replaces:
        clear_run(out_dir)
    if os.path.realpath(out_dir) != os.path.realpath(resume_folder):
        # the run's best model so far comes along: only a better epoch may replace it
        copy_best_model(resume_folder, out_dir)
    print(_describe(corpus, tokenizer, trainer), flush=True)
    print(f"resuming {args.resume} at epoch {trainer.epoch}, step {trainer.step_in_epoch} of {trainer.updates_per_epoch()}"
          + (f"; changed: {describe_overrides(saved, overrides)}" if overrides else "") + f"; writing to {out_dir}", flush=True)
    return _fit_and_report(args, trainer, corpus, tokenizer, train, valid, out_dir)


def _fit_and_report(args, trainer, corpus, tokenizer, train, valid, out_dir) -> int:
    try:
        history = trainer.fit()
    except TrainingDiverged as err:
        print(f"scratchlm train: {err}", file=sys.stderr)
        return EXIT_DIVERGED
    last = os.path.join(out_dir, LAST_CHECKPOINT)
    if history["interrupted"]:
        print(f"\ninterrupted: saved {last}\ncontinue with: scratchlm train --resume {last}")
        return EXIT_INTERRUPTED
    model, tokenizer, _ = load_trained_model(os.path.join(out_dir, BEST_CHECKPOINT))
    _print_report(model, tokenizer, corpus, train, valid, history, args)
    curve = os.path.join(out_dir, "loss.png")
    _save_loss_curve(history, curve)
    seconds = sum(history["epoch_seconds"])
    print(f"\ntrained {len(history['epoch'])} epochs in {seconds:.1f} s "
          f"({math.fsum(history['tokens_per_second']) / len(history['tokens_per_second']):,.0f} tokens/s)"
          + (", stopped early" if history["stopped_early"] else ""))
    print(f"wrote {os.path.join(out_dir, BEST_CHECKPOINT)} (best model), {last} (to resume), {curve}")
    return 0
