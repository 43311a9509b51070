"""Predict exit codes: the reference solution."""

PREDICTIONS = {
    "true": 0,
    "false": 1,
    'sh -c "exit 3"': 3,
    "nosuchcommand": 127,  # the start fails: exec found no such file
    # the inner sh is PID 2: SIGKILL kills it, the outer sh reports 128 + 9
    "sh -c \"sh -c 'kill -9 $$'; exit $?\"": 137,
    # sh is PID 1 of the container's PID namespace: the kernel drops a signal sent
    # to it from inside unless it installed a handler -- even SIGKILL. It goes on.
    'sh -c "kill -9 $$"': 0,
}
