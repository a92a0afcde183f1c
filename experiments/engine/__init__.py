"""The one engine that runs many models: tasks and records, executors, limits, output folders."""
