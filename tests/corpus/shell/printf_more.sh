printf '%5.2f|%-8s|%+d|% d\n' 3.14159 left 5 7
printf '%s %s\n' a b c
printf '%c%c\n' hello world
printf '%%d\n'
printf '\101\102\n'
printf '%x %X %o %#x\n' 255 255 8 255
printf '[%*d]\n' 5 42
printf '%s\n'
printf '%d\n' "'A"
printf 'bad %d\n' 12abc; echo "status $?"
