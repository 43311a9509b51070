echo 'Hello, World!' | tr -cd 'a-zA-Z\n'
echo 'a  b   c' | tr -s ' '
echo abc | tr abc x
echo 'tab	sep' | tr '\t' ,
echo 'x:y:z' | cut -d: -f1,3
echo 'x:y:z' | cut -d: -f2-
echo 'no delim' | cut -d: -f2
echo 'no delim' | cut -s -d: -f2
echo abcdef | cut -c 2,4-5
echo abcdef | cut -b -3
