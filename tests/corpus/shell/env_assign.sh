FOO=bar sh -c 'echo "child sees $FOO"'
echo "parent sees [$FOO]"
export BAR=baz
sh -c 'echo "exported $BAR"'
unset BAR
sh -c 'echo "unset [$BAR]"'
X=1 env | grep '^X='
env -i A=1 env
