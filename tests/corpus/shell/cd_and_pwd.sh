mkdir -p a/b
cd a/b; echo ${PWD##*/}
cd ..; echo ${PWD##*/}
cd -  > /dev/null; echo ${PWD##*/}
cd; echo "$PWD"
