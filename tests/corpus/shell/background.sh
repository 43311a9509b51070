sleep 0.1 &
pid=$!
[ -n "$pid" ] && echo "have pid"
wait $pid; echo "waited $?"
(exit 7) &
wait $!; echo "bg status $?"
echo a > out1 &
echo b > out2 &
wait
cat out1 out2
sh -c 'exit 3' &
wait $!; echo "sh status $?"
