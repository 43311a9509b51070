shift 5; echo "shift $?"
exit_in_sub() { (exit 4); echo "sub $?"; }
exit_in_sub
f() { local x=1; }; f; echo "local ok $?"
umask 077; umask
kill -0 $$; echo "kill0 $?"
wait 12345; echo "wait $?"
eval 'echo "from eval"'
. ./nosuch
echo never
