"""The bench report: exact latency samples, Locust's CSV, the summary, its checks and the plot."""
