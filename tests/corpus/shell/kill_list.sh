kill -l 9
kill -l 15
kill -l TERM
kill 999999; echo "kill $?"
