echo start
eval 'if then'
echo never
