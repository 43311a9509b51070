"""The simulated network stack: what one kernel's networking holds, in Python.

* :mod:`.stack` -- one network namespace's state: links (lo, veth pairs,
  bridges, the host's eth0), IPv4 addresses, routes, neighbours, bound sockets;
* :mod:`.fabric` -- how a packet finds its way between namespaces: route
  lookup, the bridge as a switch, ARP, forwarding, the engine's packet rules
  (isolation, DNAT for published ports, masquerading) and the silent world
  beyond the host's eth0;
* :mod:`.sockets` -- TCP, UDP and ICMP sockets as open files, with the
  errors Linux gives;
* :mod:`.outside` -- the real world: sockets of the real machine carried
  into simulated ones (the userland proxy's connections, the embedded DNS);
* :mod:`.network` -- the ``core.kernel.Network`` interface over all that;
* :mod:`.sys_net` -- the socket system calls simulated programs make.
"""
