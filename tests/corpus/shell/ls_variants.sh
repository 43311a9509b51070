mkdir -p d/sub; touch d/b d/a d/.h; ln -s b d/l
ls d
ls -a d
ls -A d
ls -1 d
ls -r d
ls -F d
ls -p d
ls -d d
ls d/a d/b
ls d d/sub
ls -R d
