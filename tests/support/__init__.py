"""Helpers the tests share: real servers, ports, processes."""
