"""Reading ``/metrics`` as a scraper does: with the reference Prometheus parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[SampleKey, float]:
    """Every sample of ``text``, keyed by name and its labels in name order."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample_sum(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(
        value
        for (found, found_labels), value in samples(text).items()
        if found == name and labels.items() <= dict(found_labels).items()
    )
