cmd='echo evaluated $((1+1))'
eval "$cmd"
eval 'x=5'; echo $x
echo 'sourced=yes; echo in source' > lib.sh
. ./lib.sh
echo $sourced
