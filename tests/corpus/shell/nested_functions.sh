outer() {
  inner() { echo "inner $1"; }
  inner "$1-x"
  return 2
}
outer arg; echo "outer $?"
inner direct
rec() { [ $1 -gt 0 ] && { echo "d$1"; rec $(($1 - 1)); }; }
rec 3
count=0
loop() { while true; do count=$((count+1)); [ $count -ge 3 ] && return 7; done; }
loop; echo "loop $? $count"
