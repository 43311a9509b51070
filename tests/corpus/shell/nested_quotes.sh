a="x y"
echo "$(echo "$a")"
echo "${a:+"$a"}"
b='it'"'"'s'
echo "$b"
echo "$(echo '$(not expanded)')"
echo `echo \`echo inner\``
