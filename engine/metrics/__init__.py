"""Quality metrics: DTW-aligned joint error and jerk, generation metrics (recognition
accuracy, FID, diversity, multimodality) and segmentation boundary F1."""
