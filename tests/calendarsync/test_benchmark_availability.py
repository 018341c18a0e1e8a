"""benchmark_availability runs whole for a small team: one request per account, pages that never wait and whose
queries do not grow."""

from tests.benchmarks import figures_of


def test_the_availability_benchmark_asks_each_account_once_and_prints_its_figures():
    figures = figures_of("benchmark_availability", "--people", "4", database="availability_benchmark")
    cold, worker, cached = figures["page_with_a_cold_cache"], figures["worker_fetches"], figures["page_cached"]
    assert (cold["provider_requests"], cold["calendar_answers"]) == (0, {"ok": 4, "pending": 4})
    assert (worker["accounts"], worker["provider_requests"], worker["errors"]) == (4, 4, [])
    assert cached["provider_requests"] == 0
    assert cached["calendar_answers"] == {"ok": 8}
    assert len(set(figures["page_cached_by_team_size"].values())) == 1
