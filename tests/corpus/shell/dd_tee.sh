printf 'abcdefgh' > in
dd if=in of=out bs=4 count=1 2>err; cat out; echo; cat err
dd if=in bs=3 status=none; echo
echo teed | tee copy1 copy2
cat copy1 copy2
