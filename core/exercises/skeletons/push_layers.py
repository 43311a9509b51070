"""Pick what a push uploads (stepbox exercises check push-layers --dir .)."""

# The registry holds learn/app:v1 already.  app:v2 = app:v1 + one layer.
#   "busybox"  busybox's layer (the base of both)
#   "data"     app:v1's layer: /app/data and /app/hello.sh
#   "hello"    app:v2's layer: a new /app/hello.sh
#   "config"   app:v2's config (its digest is the image ID)
# Your turn: keep only what `docker push learn/app:v2` has to send.
UPLOAD = {"busybox", "data", "hello", "config"}
