printf 'one\ntwo\nthree\nfour\n' > f
printf 'two\nfive\n' > g
grep o f g
grep -h o f g
grep -l t f g
grep -L five f g
grep -c o f g
grep -o 'o.' f
grep -w two f
grep -x four f
grep -e one -e four f
grep -m 1 o f
echo abc | grep -F 'b'
echo 'a.c' | grep -F '.'
echo abc | grep 'a.c'
echo 'aXc' | grep '[[:upper:]]'
