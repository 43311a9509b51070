trap 'echo exiting' EXIT
trap 'echo got usr1' USR1
kill -USR1 $$
echo after kill
trap
trap - USR1
echo end
