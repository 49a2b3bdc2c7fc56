//! Integration tests of the rust-echo engine live in `tests/`: each file starts a real server
//! on a free port and talks to it over real sockets, with a real `redis-server` and a real HTTP
//! auth endpoint where the behaviour needs them.
