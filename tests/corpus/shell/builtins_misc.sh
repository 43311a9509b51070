: noop; echo "colon $?"
type echo
type cd
type exit
f() { :; }; type f
type nosuchthing; echo "type $?"
command -v cd
echo $((3 > 2)) 
umask 022; umask
