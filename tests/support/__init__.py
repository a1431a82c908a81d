"""Test helpers shared by all test files: a real HTTP server on 127.0.0.1 (``webserver``).

conftest.py makes the fixture available everywhere with::

    from support.webserver import web_server  # noqa: F401
"""

from support.webserver import Request, Route, WebServer, web_server

__all__ = ["Request", "Route", "WebServer", "web_server"]
