while getopts "ab:c" o -a -b val -x -ac rest; do echo "o=$o OPTARG=$OPTARG OPTIND=$OPTIND"; done
echo "end $? $OPTIND"
set -- -v -f file arg
OPTIND=1
while getopts vf: opt; do
  case $opt in
    v) echo verbose;;
    f) echo "file=$OPTARG";;
  esac
done
shift $((OPTIND - 1))
echo "rest: $*"
set -- -b; OPTIND=1; getopts b: o; echo "$? $o [$OPTARG]"
OPTIND=1; getopts :b: o -b; echo "$? $o [$OPTARG]"
OPTIND=1; getopts :a o -z; echo "$? $o [$OPTARG]"
OPTIND=1; getopts a o -- -a; echo "$? $o $OPTIND"
let x=2+3 y=x*2; echo $x $y $?
let 0; echo $?
