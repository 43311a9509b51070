greet() { echo "hello $1 ($#)"; }
greet world extra
add() { return $(($1 + $2)); }
add 2 3; echo "returned $?"
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }
fact 5
v=global
scope() { local v=local; echo "in $v"; }
scope; echo "out $v"
setter() { w=fromfunc; }
setter; echo "$w"
args() { echo "$@"; shift; echo "$@"; }
set -- outer1 outer2
args a b c
echo "$@"
