name=World
cat <<EOF
Hello $name
  indented \$notvar $(echo sub)
EOF
cat <<'EOF'
literal $name `echo no`
EOF
cat <<-EOF
	tabs stripped $name
	EOF
cat <<A; cat <<B
first
A
second
B
echo after
