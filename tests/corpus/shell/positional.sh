set -- a "b c" d
echo $# "$1" "$2" "$3"
for a in "$@"; do echo "at:<$a>"; done
for a in "$*"; do echo "star:<$a>"; done
for a in $*; do echo "unq:<$a>"; done
shift
echo $# "$@"
shift 2
echo $# "[$*]"
set --
for a in "$@"; do echo never; done
echo done
