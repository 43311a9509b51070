nosuchcommand
echo "status $?"
./nosuch
echo "status $?"
touch noexec; ./noexec
echo "status $?"
