x=hello
echo $x ${x} "${x}world" ${x}_suffix
unset x
echo "[${x}]" "[${x:-default}]" "[${x-dash}]"
x=
echo "[${x:-colon}]" "[${x-nocolon}]" "[${x:+alt}]" "[${x+set}]"
echo "${y:=assigned}" "$y"
z=abcdef
echo ${#z} ${z#a*c} ${z##*[cd]} ${z%e*} ${z%%[b-d]*}
