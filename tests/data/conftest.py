"""The loopback mirror and offline fixtures of data_fixtures.py, for the tests in this folder."""

from data_fixtures import dead_mirror, loopback_only, make_read_only, mirror_server

__all__ = ["dead_mirror", "loopback_only", "make_read_only", "mirror_server"]
