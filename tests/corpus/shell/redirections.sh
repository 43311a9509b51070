echo one > f1
echo two >> f1
cat f1
cat < f1 | wc -l
echo err 2> e1 >&2
cat e1
ls nosuch 2>/dev/null || echo "ls failed quietly"
ls nosuch > both 2>&1; cat both
{ echo grouped; echo lines; } > g1
cat g1
exec 3> f3
echo via-fd3 >&3
exec 3>&-
cat f3
echo to-stderr >&2
