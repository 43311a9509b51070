printf 'a b c\nline two\n' > in
{ read x y; echo "[$x][$y]"; read z; echo "[$z]"; } < in
printf 'one\\\ntwo\n' | { read v; echo "$v"; }
printf 'raw\\tx\n' | { read -r v; echo "$v"; }
printf 'k1:v1\n' | { IFS=: read k v; echo "$k=$v"; }
printf 'noeol' | { read v; echo "status $? [$v]"; }
printf '  spaced  \n' | { read v; echo "[$v]"; }
