"""Learned models: features, datasets, checkpoints, encoders, training (torch, no Qt)."""
