"""Workshop mode: teams steer firms of one shared market, a facilitator runs the rounds."""
