[ 1 -eq 1 ] && echo eq
[ a = a ] && echo streq
[ a != b ] && echo strne
[ -z "" ] && echo zero
[ -n x ] && echo nonzero
test 3 -gt 2 -a 1 -lt 2 && echo and
test 3 -gt 5 -o 1 -lt 2 && echo or
[ ! -e nosuch ] && echo notexist
touch file; mkdir dir
[ -f file ] && [ -d dir ] && [ -e file ] && echo types
[ -d file ]; echo $?
[ x ]; echo $?
[ "" ]; echo $?
[ 1 -lt x ]; echo $?
[ a; echo $?
