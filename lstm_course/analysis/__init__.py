"""Measurements the lectures show: gradient flow, Jacobian products, sensitivity, BPTT traces.

Each module is one measurement, tested in tests/; the lecture notebooks call them.
"""
