"""Training recipes the lectures run: seeded, CPU-sized, and tested on small settings.

Each module is one experiment (a task, its models, the loop and the result to plot).
"""
