mkdir -p a/b/c
touch a/f1 a/b/f2
ls a
ls -a a
ls -1 a/b
ls -F a
cp a/f1 a/f1copy
mv a/f1copy a/moved
ls a
cp -r a acopy
ls acopy/b
rm a/moved
rm -r acopy
ls
ln -s f1 a/link
readlink a/link
rm a/link
mkdir a; echo "mkdir $?"
rm a; echo "rm dir $?"
rmdir a/b; echo "rmdir $?"
rm nosuch; echo "rm $?"
rm -f nosuch; echo "rm -f $?"
cat nosuch; echo "cat $?"
cp nosuch x; echo "cp $?"
mv nosuch x; echo "mv $?"
