"""The benchmark of issue 13: a synthetic study (`bench.generate`) and its timing (`bench.run`)."""
