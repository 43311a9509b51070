echo ${unset_var?custom message}
echo never
