a=$(echo one)
b=`echo two`
echo "$a $b $(echo $(echo nested))"
c=$(printf 'x\n\n\n')
echo "[$c]"
d=$(false); echo "status $?"
echo "$(echo a; echo b)"
echo $(echo a; echo b)
