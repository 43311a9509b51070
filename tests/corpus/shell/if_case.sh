for n in 1 2 3 4; do
  if [ $n -eq 1 ]; then echo one
  elif [ $n -eq 2 ]; then echo two
  else echo other $n
  fi
done
for w in apple banana cherry 42 ""; do
  case $w in
    a*) echo "A-word $w";;
    b*|c*) echo "B or C $w";;
    [0-9]*) echo "number $w";;
    "") echo empty;;
  esac
done
case x in (x) echo paren;; esac
