"""Order the steps of pivot_root: the reference solution."""

ORDER = ["bind", "enter", "pivot", "detach", "home"]
