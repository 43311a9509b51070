"""stepbox: a container engine written to be read, stepped through and tested.

The code lives in two sub-packages:

* :mod:`stepbox.core`     -- everything that does not depend on which kernel runs it
* :mod:`stepbox.backends` -- the kernels: ``linux`` (real syscalls) and ``sim`` (pure Python)
"""

__version__ = "0.1.0"
