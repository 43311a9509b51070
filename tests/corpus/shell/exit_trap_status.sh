trap 'echo "exit trap sees $?"' EXIT
false
exit 9
