touch b.txt a.txt c.log .hidden
echo *.txt
echo *
echo ?.log
echo [ab].txt
echo [!a]*.txt
echo nomatch*
echo "*.txt"
echo .h*
mkdir sub; touch sub/x sub/y
echo sub/*
