echo first
echo second; fi
echo never
