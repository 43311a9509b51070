expr 1 + 2
expr 10 / 3
expr 10 % 3
expr 2 \* 3
expr 5 \> 3
expr abc : 'a\(.\)'
expr length hello
expr 0; echo $?
expr 1 +; echo $?
