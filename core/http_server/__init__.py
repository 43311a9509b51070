"""The HTTP/1.1 server under both of stepbox's servers: the daemon's Engine
API and the OCI registry.

Why one, and why on h11?  Everything the daemon does starts with a request
parsed here -- ``docker ps`` writes ``GET /v1.44/containers/json HTTP/1.1``
to a socket -- and a server that anyone on a network may reach has to be
strict about the bytes it accepts.  h11 is a small, maintained HTTP/1.1
state machine that does no I/O of its own: it refuses a negative or
oversized chunk size, a header block past a limit, ``Content-Length`` next
to ``Transfer-Encoding``; it knows when a connection may carry the next
request and when it must close; and it supports the protocol switch that
``docker attach`` and ``docker exec`` need (``101 UPGRADED``, then raw
bytes both ways).  This package does the I/O around it:

``headers``     header fields in arrival order (shared with the client)
``messages``    a Request and the three kinds of reply: a whole body, a
                stream, an upgrade to a raw connection
``limits``      the numbers that keep one client from holding the server:
                head and body sizes, read timeouts, connections at once
``listeners``   ``unix:///path`` and ``tcp://host:port`` addresses, and the
                sockets they become
``tls``         TLS for tcp listeners (and clients): certificates, mutual TLS
``connection``  one connection: h11 in, replies out, keep-alive, upgrades
``server``      the accept loop over several listeners and a pool of workers
                that queues connections beyond its cap rather than refusing
``workers``     the threads that serve connections, each kept for the next
                connection once idle (starting a thread costs a busy daemon)
"""
