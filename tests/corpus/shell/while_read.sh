printf 'one\ntwo\nthree\n' > lines
n=0
while read line; do n=$((n+1)); echo "$n:$line"; done < lines
echo "total $n"
cat lines | while read l; do echo "piped $l"; done
