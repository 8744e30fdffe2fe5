"""N-gram language models: vectorised counting, every classic smoothing method, ARPA files.

    from scratchlm.ngram import fit_ngram
    model = fit_ngram(sentences, order=5, method="mkn")    # sentences: lists of string tokens
    model.perplexity([model.encode(s) for s in test_sentences])

Files, one concept each:

    trie.py                   n-gram tables as a trie of sorted int64 keys
    counting.py               every n-gram count of orders 1..N at once, counts of counts
    model.py                  NGramLM: back-off tables behind the LanguageModel interface
    mle.py                    maximum likelihood and add-alpha (Laplace, Lidstone)
    interpolated.py           the recursion "discount, then interpolate with the lower order"
    absolute_discounting.py   absolute discounting, interpolated
    katz.py                   Katz back-off with Good-Turing discounts
    linear_interpolation.py   Jelinek-Mercer interpolation, lambdas by EM on held-out data
    kneser_ney.py             interpolated and modified Kneser-Ney (KenLM's lmplz model)
    witten_bell.py            Witten-Bell, interpolated
    stupid_backoff.py         stupid backoff (not a distribution)
    fit.py                    fit_ngram: sentences in, a model out
    arpa.py                   ARPA export and import
    baselines.py              the n-gram rows of the model-comparison tables
    naive_bayes.py            naive Bayes over character n-grams (a classification baseline)
"""
from scratchlm.ngram.fit import METHOD_NAMES, METHODS, build_vocabulary, fit_ngram
from scratchlm.ngram.model import NGramLM

__all__ = ["fit_ngram", "NGramLM", "METHODS", "METHOD_NAMES", "build_vocabulary"]
