"""The driver contract suite: one set of tests every endpoint driver opts into (as rclone's
fstests are for its backends).

Each test names the capabilities it needs (`@requires(Can.WRITE, ...)`, see `harness.Can`) and
runs once per registered driver; a driver that does not claim one of them shows the test as
skipped, with the missing capability as the reason. The drivers run against their real
services: Local against a temporary folder, Blob against the session's Azurite (REST fast
path, SDK path, append and page blobs), Web against a loopback file server.

How a new driver opts in (about 15 lines):

1. Subclass `harness.DriverHarness` in a module of this folder (see `drivers_local.py` for the
   smallest one). Implement `root()` (an endpoint bound to a fresh empty root), `single(name)`
   (bound to one object), `missing_root()`, `ref(name)` (how the endpoint addresses an
   object), `put(name, data)` and `get(name)` (seed and read an object by the service's own
   means: its SDK, the filesystem, the server's files) and `names()` (every object under the
   root, by the same means). `start()`/`stop()` open and close connections inside the test's
   event loop; `__init__` takes the pytest `request`, to use fixtures such as `azurite`.
2. Add a `Driver(id, factory, claims, endpoint)` to `REGISTRY` in `drivers.py`, claiming only
   what the driver does (`Can.LIST`, `Can.READ`, ...); what it offers as a capability Protocol
   of `endpoints.base` or `endpoints.copycaps` (a sorted listing, a destination, URLs, copies
   from URLs) is derived from its `endpoint` class (`harness.OFFERED`), never claimed.
   `factory(request)` makes the harness.

Then `pytest tests/contract -k <id>` runs the suite for it.
"""
