// Every fault test drives a real broker process at full load; run side by side on a 2-core machine they would slow
// each other down and make timing-based checks (idle drops during pauses, cut-off within seconds) flaky.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
