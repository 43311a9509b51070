printf 'l1\nl2\nl3\nl4\nl5\n' > t
head -n 2 t
head -3 t | tail -1
tail -n 2 t
tail -n +4 t
wc -l t
wc -w < t
wc -c t
printf 'b 2\na 10\nc 1\n' > s
sort s
sort -r s
sort -n -k 2 s
cut -d' ' -f2 s
cut -c1 s
grep -n l3 t
grep -c l t
grep -v l t; echo "grep none $?"
grep -i L1 t
grep -E 'l(1|5)' t
echo hello world | tr -d o
echo aaabbb | tr -s ab
echo hello | tr a-y b-z
seq 3
seq 2 4
seq 1 2 7
seq -s , 3
