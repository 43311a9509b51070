touch f; chmod 755 f; mkdir d; ln -s f l
for op in -e -f -d -L -h -x -r -w -s; do
  for p in f d l nosuch; do
    if [ $op $p ]; then printf '%s %s yes\n' $op $p; fi
  done
done
[ -s f ] || echo "empty f"
[ abc \< abd ] && echo less
[ 10 -ge 10 ] && echo ge
[ ! 1 -eq 2 ] && echo not
[ \( 1 -eq 1 \) -a \( 2 -eq 2 \) ] && echo paren
[ -n "" -o -z "" ] && echo or
[ = ] && echo "lone eq"
[ -n ] && echo "lone -n"
[ 1 -eq ]; echo "status $?"
