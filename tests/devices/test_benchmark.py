"""benchmark_dav runs whole on a small calendar: both servers serve it all, then the ten changes."""

from tests.benchmarks import figures_of


def test_the_dav_benchmark_serves_both_servers_and_prints_their_figures():
    figures = figures_of("benchmark_dav", "--appointments", "60", database="dav_benchmark")
    for server in ("ours", "radicale"):
        assert figures[server]["first_sync"]["resources"] == 60
        after = figures[server]["after_10_changes"]
        assert (after["changed"], after["removed"]) == (9, 1)
    ours = figures["ours"]
    assert ours["after_10_changes"]["db_queries"] == ours["after_10_changes_in_200"]["db_queries"]
    assert ours["first_sync"]["requests"] == figures["radicale"]["first_sync"]["requests"] == 2
