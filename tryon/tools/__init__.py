"""Developer tools: benchmarks (bench, live bench, soak), quality measurements (stability, evaluation over
annotated people) and calibration. Nothing in the frame's path imports them."""
