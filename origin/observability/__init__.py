"""What operators see of the origin: JSON logs, Prometheus metrics, the OpenAPI document."""
