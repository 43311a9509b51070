"""The registry: where images live between machines.

The seed says images are *pushed* to a registry and *pulled* from it, and that
after the first transfer only the layers whose content changed move.  That
works because a registry is a content-addressed store, exactly like the local
image store: every blob (layer, config, manifest) is named by the sha256 of its
bytes, so "do you already have this layer?" is one ``HEAD`` request.

This package speaks the OCI distribution spec (the Docker Registry HTTP API V2
that it grew out of) from both ends:

* the **server** (:mod:`.server`, with :mod:`.routes`, :mod:`.storage`,
  :mod:`.uploads`, :mod:`.htpasswd`): ``stepbox registry serve``;
* the **client** (:mod:`.client`, with :mod:`.transport`, :mod:`.pull`,
  :mod:`.push`): ``stepbox pull``, ``stepbox push``, ``stepbox login``.

Shared vocabulary -- names, digests, media types, error codes -- lives in
:mod:`.names`, :mod:`.mediatypes` and :mod:`.errors`.
"""
