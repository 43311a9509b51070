expr 7 / 2
expr -7 / 2
expr 7 % -2
expr 3 \< 10
expr abc \< abd
expr 'hello' : 'hel'
expr 'hello' : '\(h.*l\)'
expr substr hello 2 3
expr index hello l
expr 5 \& 0; echo $?
expr 0 \| 7
expr '' \| 0; echo $?
expr 1 / 0; echo $?
expr a + 1; echo $?
