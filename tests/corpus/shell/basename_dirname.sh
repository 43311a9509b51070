basename /usr/lib/libc.so
basename /usr/lib/libc.so .so
basename /
basename dir/
dirname /usr/lib/libc.so
dirname file
dirname /
dirname a/b/
