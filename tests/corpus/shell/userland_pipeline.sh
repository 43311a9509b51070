# A build-script-like pipeline: make a tree, rewrite it with sed and awk,
# select with find/xargs, pack it with tar and gzip, check it with sha256sum.
mkdir -p src/lib src/doc
printf 'name=demo\nversion=1.2.3\n# comment\nmode=fast\n' > src/app.conf
printf 'alpha 3\nbeta 1\ngamma 2\n' > src/lib/data.txt
printf 'hello\n' > src/doc/README
sed -i -e 's/^version=.*/version=2.0.0/' -e '/^#/d' src/app.conf
cat src/app.conf
awk -F= '{ printf "%s -> %s\n", toupper($1), $2 }' src/app.conf
awk '{ s += $2 } END { print NR, s }' src/lib/data.txt
sort -k2,2n src/lib/data.txt | awk '{ print $1 }' | tr '\n' ' '; echo
find src -type f | sort
find src -name '*.txt' -print0 | xargs -0 wc -l
find src -type f | sort | xargs -n 1 sh -c 'echo "$(wc -c < "$0") $0"'
tar -cf src.tar src && tar -tf src.tar | sort
gzip -9 src.tar && ls src.tar*
zcat src.tar.gz | tar -tf - | wc -l
mkdir out && gunzip -c src.tar.gz | tar -xf - -C out && find out | sort
( cd out/src && find . -type f | sort | xargs sha256sum )
( cd out/src && find . -type f | sort | xargs sha256sum ) > sums
( cd src && sha256sum -c ../sums )
echo tampered >> src/doc/README
( cd src && sha256sum -c ../sums ); echo "check: $?"
gzip -t src.tar.gz; echo "gzip -t: $?"
printf 'not gzip' > bad.gz; gunzip bad.gz; echo "gunzip: $?"
tar -xf missing.tar; echo "tar: $?"
sed -n '2{p;q}' src/lib/data.txt; sed 's/a/A/2g' src/lib/data.txt
awk 'BEGIN { split("c b a", w); n = 0; for (k in w) n++; print n, length("stepbox") }'
