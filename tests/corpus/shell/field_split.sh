v="a  b   c"
for w in $v; do echo "<$w>"; done
IFS=:
v="x:y::z"
for w in $v; do echo "[$w]"; done
IFS=' :'
v=" p : q r "
for w in $v; do echo "{$w}"; done
unset IFS
v="  m  n  "
set -- $v
echo $#
