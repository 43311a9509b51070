true; echo $?
false; echo $?
sh -c 'exit 42'; echo $?
sh -c 'kill -9 $$'; echo $?
sh -c 'kill -TERM $$'; echo $?
(exit 300); echo $?
exit 5
echo never
