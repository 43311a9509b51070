x=1
(x=2; echo "inside $x")
echo "outside $x"
(cd /; pwd)
{ x=3; }
echo "brace $x"
(exit 4); echo "subshell exit $?"
y=$(x=5; echo $x); echo "cmdsub $y $x"
