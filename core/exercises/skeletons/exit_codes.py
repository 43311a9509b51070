"""Predict exit codes (stepbox exercises check exit-codes --dir .)."""

# `docker run busybox COMMAND`; echo $? -- your turn: replace each None.
# Hint: a process killed by signal N ends "with 128 + N" (SIGKILL is 9) -- but think
# of who PID 1 is, and what the kernel does with a signal sent to the init process
# of a PID namespace from inside it.
PREDICTIONS = {
    "true": 0,
    "false": None,
    'sh -c "exit 3"': None,
    "nosuchcommand": None,
    "sh -c \"sh -c 'kill -9 $$'; exit $?\"": None,
    'sh -c "kill -9 $$"': None,
}
