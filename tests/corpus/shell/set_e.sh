set -e
echo start
false || echo "or saves"
if false; then :; fi
! true
echo "still here"
false
echo never
