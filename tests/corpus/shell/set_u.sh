set -u
echo "defined ${HOME:+yes}"
echo "$undefined_var"
echo never
