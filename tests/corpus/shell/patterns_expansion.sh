path=/usr/local/lib/libfoo.so.1
echo ${path##*/} ${path%/*} ${path#/usr} ${path%%.*}
f=archive.tar.gz
echo ${f%.gz} ${f%%.*} ${f#*.} ${f##*.}
v="a b"
echo ${v:+"[$v]"} ${unset:-"d e"}
e=
echo "${e:-empty}" "${e-set-but-empty}"
