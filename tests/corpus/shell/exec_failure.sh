echo hi | exec cat
exec 2>/dev/null 3>/dev/null
exec 2>&1
echo before
exec nosuch_cmd
echo after
