for i in 1 2 3 4 5; do
  [ $i -eq 2 ] && continue
  [ $i -eq 4 ] && break
  echo i=$i
done
n=0
until [ $n -ge 3 ]; do n=$((n+1)); echo until $n; done
for a in x y; do for b in 1 2 3; do
  [ $b -eq 2 ] && continue 2
  echo $a$b
done; done
for a in x y; do for b in 1 2; do echo $a$b; break 2; done; done
while false; do echo never; done; echo "while status $?"
for v; do echo "no words $v"; done
