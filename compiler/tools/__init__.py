"""What is not the pipeline: diff, explain, cost, the editing commands, init, logs, seal."""
