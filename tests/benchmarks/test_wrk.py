"""What the benchmarks read from wrk's report."""

import pytest
from wrk import Measurement, parse_wrk

# A real report (wrk 4.1, --latency), against python -m http.server.
REPORT = """\
Running 2s test @ http://127.0.0.1:8931/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.57ms    1.66ms  12.26ms   86.69%
    Req/Sec     1.55k   238.81     1.98k    75.00%
  Latency Distribution
     50%  {p50}
     75%    1.65ms
     90%    3.99ms
     99%  {p99}
  3077 requests in 2.00s, 5.16MB read
Requests/sec:   1538.06
Transfer/sec:      2.58MB
"""


def test_requests_per_second_and_the_percentiles_in_milliseconds() -> None:
    report = REPORT.format(p50="  0.89ms", p99="  8.15ms")

    assert parse_wrk(report) == Measurement(1538.06, 0.89, 8.15)


@pytest.mark.parametrize(
    ("printed", "milliseconds"), [("812.00us", 0.812), ("8.15ms", 8.15), ("1.20s", 1200.0)]
)
def test_each_unit_wrk_prints_is_converted(printed: str, milliseconds: float) -> None:
    report = REPORT.format(p50="  0.89ms", p99=f"  {printed}")

    assert parse_wrk(report).p99_ms == pytest.approx(milliseconds)


def test_a_run_that_saw_error_answers_is_refused() -> None:
    report = REPORT.format(p50="0.89ms", p99="8.15ms").replace(
        "Requests/sec:", "  Non-2xx or 3xx responses: 1990\nRequests/sec:"
    )

    with pytest.raises(RuntimeError, match="error responses"):
        parse_wrk(report)
