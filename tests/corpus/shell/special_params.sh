echo "$#" "${#}" "$-"
set -- a b c d e f g h i j k
echo ${10} ${11} $#
f() { echo "$0 $#"; }
f x y
echo $((unset_var + 1)) $((${#1}))
true; echo $?; false; echo $?; ! false; echo $?
x=$(exit 3); echo "assign only $?"
