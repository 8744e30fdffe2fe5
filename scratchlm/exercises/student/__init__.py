"""Student templates: each function's body is yours to write.

Copy them first (``scratchlm exercise copy my_exercises`` or
``scratchlm.exercises.copy_templates("my_exercises")``), write the bodies there, and check a
file as you go: ``scratchlm exercise check my_exercises/rnn_step.py``. ``scratchlm exercise
list`` gives the order of the lectures.
"""
