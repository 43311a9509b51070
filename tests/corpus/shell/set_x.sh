set -x
echo traced "two words"
x=1
set +x
echo quiet
