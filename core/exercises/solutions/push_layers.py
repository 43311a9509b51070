"""Pick what a push uploads: the reference solution."""

# The client asks the registry (HEAD /v2/.../blobs/DIGEST) for each blob first:
# the two lower layers are there since app:v1; only v2's layer and config are new.
UPLOAD = {"hello", "config"}
