exec 4>&1
exec > out.txt
echo redirected
exec 2>&1
echo to-file-too >&2
exec >&4 2>&4
exec 4>&-
cat out.txt
echo back to stdout
