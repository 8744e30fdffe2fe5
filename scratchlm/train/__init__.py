"""Training: full and truncated BPTT, gradient clipping, optimizers, schedules, checkpoints.

    optimizers.py   SGD (momentum), Adagrad, Adam - each update rule in its docstring
    clipping.py     clip by global norm (torch's formula) and by value
    schedules.py    step decay (Zaremba et al.), plateau decay, early stopping
    tbptt.py        truncated BPTT TBPTT(k1, k2) and full BPTT over whole sequences
    checkpoint.py   model + optimizer + vocabulary + config + RNG state as .npz + JSON, atomically
    loop.py         the epoch loop: progress bar, validation perplexity, history, Ctrl-C
"""
