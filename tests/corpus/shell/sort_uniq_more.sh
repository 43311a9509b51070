printf '3 c\n1 a\n2 b\n1 a\n' > f
sort f
sort -u f
sort -k2 f
sort -t' ' -k1,1n f
sort -rn f
printf 'a\na\nb\nA\n' | uniq
printf 'a\na\nb\nA\n' | uniq -c
printf 'a\na\nb\nc\nc\n' | uniq -d
printf 'a\na\nb\nc\nc\n' | uniq -u
printf 'a\nA\n' | uniq -i
