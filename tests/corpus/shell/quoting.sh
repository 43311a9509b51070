echo 'single $HOME' "double" unquoted\ space
echo "a\"b" 'c"d' "e'f" \$x "\$y" "\\"
echo "" '' x
printf '[%s]\n' "one two" three '' "$undefined"
echo "tab	in" 'new
line'
