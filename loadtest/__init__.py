"""Latency load tests: Locust scenarios, the WAN-latency emulation proxy and the bench report."""
