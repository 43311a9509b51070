echo hi > f
chmod 600 f
stat -c '%n %s %a %A %F' f
chmod u+x,g+r f
stat -c '%a %A' f
chmod a-w f
stat -c '%a' f
mkdir d
stat -c '%F %a' d
ln -s f l
stat -c '%F %N' l
