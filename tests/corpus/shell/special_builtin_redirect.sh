# A regular builtin's redirection error only fails that command; a special
# builtin's (":", "exec") ends a non-interactive shell (POSIX 2.8.1).
echo > /nonexistent/x; echo "after echo: $?"
true > /nonexistent/x; echo "after true: $?"
: > /nonexistent/x
echo "never printed"
