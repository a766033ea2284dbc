"""Checks for the graded exercises: each compares a student's function with the course's own.

One module per exercise (``rnn``, ``lstm``, ...). A check calls the student's function on
seeded inputs, compares every output with the reference implementation in ``lstm_course``,
and raises ``AssertionError`` with a message that localises the fault: which output, which
gate, which time step, the expected and the actual shape. The visible tests in an exercise
notebook call the checks at one shape and seed; the hidden tests call them at others.
"""
