"""Quality metrics: DTW-aligned joint error, jerk, (later) FID/diversity/accuracy."""
