"""``outpost bench``: start what it needs, run each scenario direct and via the edge, report."""
