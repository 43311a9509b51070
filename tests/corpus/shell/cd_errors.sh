cd /nosuchdir
echo "status $?"
mkdir d1
cd d1 && echo "in d1"
cd .. && echo back
