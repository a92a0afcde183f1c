"""What the fork server loads once, before it forks any worker.

The model and the runner are imported here, and the studies' compiled kernels loaded
(:func:`experiments.engine.runner.study_model`); then the heap is frozen (``gc.freeze``): the
collector never visits those objects again, so a forked worker does not write to (and so
copy) the pages that hold them. Workers start with everything loaded and share it.
What the freeze saves is measured by ``make bench`` (its gc.freeze row: the same sweep
with the same modules preloaded, unfrozen).
"""

import gc

import experiments.engine.executors.lifeline  # noqa: F401 - every worker's initializer
import experiments.engine.runner  # noqa: F401 - loaded for the workers
import simulation.model  # noqa: F401 - loaded for the workers

experiments.engine.runner.study_model()  # the compiled kernels too (numba), where installed
gc.freeze()
