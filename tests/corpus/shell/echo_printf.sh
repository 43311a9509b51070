echo -n no-newline; echo
echo -e 'tab\there' 'nl\nx'
echo -e 'stop\cnot shown'
echo
echo -n
echo -- -n
printf '%s|%5s|%-5s|%d|%x|%o|%c|%%\n' str r l 42 255 8 char
printf '%s\n' a b c
printf '%d %d\n' 1 2 3
printf 'no args\n'
printf '%b\n' 'esc\tx'
printf '%3d|%-3d|%03d\n' 7 7 7
