"""Batch experiments: specs, designs, executors, storage and analysis of many model runs.

Experiments import the model (``simulation``); the model never imports experiments.
"""
