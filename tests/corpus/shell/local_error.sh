echo start
local x=1
echo never
