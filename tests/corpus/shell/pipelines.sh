echo hello | tr a-z A-Z
printf 'c\nb\na\nb\n' | sort | uniq -c
false | true; echo "status $?"
true | false; echo "status $?"
! true; echo "negated $?"
! false | false; echo "negated pipe $?"
echo x | { read v; echo "read $v"; }
v=outer; echo inner | read v; echo "v=$v"
yes | head -n 3
seq 1 10 | grep 1 | wc -l
