"""Student versions of the exercises: each function's body is yours to write.

Copy this folder somewhere of your own first (``scratchlm.exercises.copy_templates("my_work")``),
write the bodies there, and check each one as you go::

    from scratchlm import exercises
    import rnn_step                                    # your copy
    print(exercises.check("rnn_step_backward", rnn_step.rnn_step_backward))

The order follows the lectures: embedding, softmax_cross_entropy, rnn_step, lstm_step, rnn_bptt.
"""
