break
echo after-break
continue
echo after-continue
return 3
echo never
