seq 1 100 | sort -n -r | head -n 5 | tail -n 2 | tr '\n' ' '; echo
seq 1 50 | grep 7 | wc -l
