for f in file.txt FILE.TXT x.c .dot "with space" "a*b"; do
  case "$f" in
    *.txt) echo "txt: $f";;
    *.[ch]) echo "c source: $f";;
    .*) echo "dotfile: $f";;
    *" "*) echo "spaced: $f";;
    'a*b') echo "literal star: $f";;
    *) echo "other: $f";;
  esac
done
