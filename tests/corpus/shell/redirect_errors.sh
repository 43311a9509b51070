cat < nofile
echo "status $?"
echo x > /nosuchdir/file
echo "status $?"
echo hi > out; cat out
echo hi >&5
echo "status $?"
{ echo in-group; } 2>/dev/null > grouped; cat grouped
