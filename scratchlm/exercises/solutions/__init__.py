"""Worked solutions of the exercises, for teachers (and for students who are done).

Each module here answers the module of the same name in ``scratchlm.exercises.student``. The
solutions are written out in full, in the notation of the forward passes in
``scratchlm.exercises.forward``; the reference layers in ``scratchlm/layers`` compute the same
gradients their own way, and ``scratchlm.exercises.check`` compares both.
"""
