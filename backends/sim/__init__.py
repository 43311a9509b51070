"""The simulated kernel: the whole container lifecycle in pure Python.

``create_kernel(state_dir)`` returns a :class:`~stepbox.core.kernel.Kernel`
that needs no root and no Linux.  See ``SIMPLIFICATIONS.md`` beside this file
for the one list of ways it knowingly differs from the real kernel.
"""
